import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import { status } from '@grpc/grpc-js';
import type { Caller } from '../auth/caller';
import { DomainError } from '../errors';
import { createGrpcClient, type GrpcCallOptions, type GrpcClient } from './grpc-client';

/** Another platform service this one depends on is not reachable or not configured. */
export class DependencyUnavailableError extends DomainError {
  readonly code = status.UNAVAILABLE;
}

/**
 * Clients of the other platform services, for a service that calls them (registry reads tracking's
 * runs). A service is found in this process first (standalone, tests), else at the address
 * configured as `services.<name>.address`. Calls forward the caller's token and request id, so
 * the other service checks the caller's own permissions: `clients.of(RunService, 'tracking')
 * .getRun({ runId }, forwardAs(caller))`. One client per service, made on first use.
 */
export class ServiceClients {
  private readonly clients = new Map<string, GrpcClient<GenServiceMethods>>();

  constructor(private readonly addressOf: (service: string) => string | undefined) {}

  of<T extends GenServiceMethods>(service: GenService<T>, owner: string): GrpcClient<T> {
    const key = `${owner}/${service.typeName}`;
    const known = this.clients.get(key);
    if (known) return known as GrpcClient<T>;
    const address = this.addressOf(owner);
    if (!address) {
      throw new DependencyUnavailableError(
        `this call needs the ${owner} service, which is not running in this process and has no address: set services.${owner}.address (TRELLIS_${owner.toUpperCase()}_ADDRESS)`,
        { reason: 'DEPENDENCY_NOT_CONFIGURED', metadata: { service: owner } },
      );
    }
    const client = createGrpcClient(service, address);
    this.clients.set(key, client as unknown as GrpcClient<GenServiceMethods>);
    return client;
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}

/** Call options that act as `caller`: its token and request id. */
export function forwardAs(caller: Caller, timeoutMs = 30_000): GrpcCallOptions {
  return { token: caller.token, requestId: caller.requestId, timeoutMs };
}

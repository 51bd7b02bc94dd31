import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import { Channel, connectivityState, credentials, InterceptingCall, status, type Interceptor } from '@grpc/grpc-js';
import type { Caller } from '../auth/caller';
import { DomainError } from '../errors';
import { CLIENT_CHANNEL_OPTIONS, createGrpcClient, type GrpcCallOptions, type GrpcClient } from './grpc-client';

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
    // grpc-js takes `channelOverride` among a client's options: the interceptor reads the state of the channel the calls use.
    const channel = new Channel(address, credentials.createInsecure(), CLIENT_CHANNEL_OPTIONS);
    const client = createGrpcClient(service, address, { channelOptions: { channelOverride: channel, interceptors: [namingUnreachable(`the ${owner} service at ${address} (services.${owner}.address, TRELLIS_${owner.toUpperCase()}_ADDRESS)`, channel)] } });
    this.clients.set(key, client as unknown as GrpcClient<GenServiceMethods>);
    return client;
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}

/**
 * A client interceptor that turns an UNAVAILABLE the channel raised itself (no connection, a
 * dropped one) into `<whatIsDown> is not answering; check that it runs there`. One the server sent
 * while connected (a service it calls is down) passes unchanged.
 */
export function namingUnreachable(whatIsDown: string, channel: Channel): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, _listener, next) {
        next(metadata, {
          onReceiveStatus(received, nextStatus) {
            const down = received.code === status.UNAVAILABLE && channel.getConnectivityState(false) !== connectivityState.READY;
            nextStatus(down ? { ...received, details: `${whatIsDown} is not answering; check that it runs there` } : received);
          },
        });
      },
    });
}

/** Call options that act as `caller`: its token and request id. */
export function forwardAs(caller: Caller, timeoutMs = 30_000): GrpcCallOptions {
  return { token: caller.token, requestId: caller.requestId, timeoutMs };
}

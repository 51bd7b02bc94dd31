import type { DescService } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import { Channel, Client, credentials, status, type ClientOptions } from '@grpc/grpc-js';
import { CLIENT_CHANNEL_OPTIONS, createGrpcClient, namingUnreachable, type GrpcClient, type Logger } from '@trellis/platform';
import { GatewayError } from '../errors/gateway-error';
import { UpstreamFailureLog } from './upstream-failures';
import { checkUpstreamHealth, describeUpstream } from './upstream-health';

/** How long a readiness check waits for an upstream's health answer. */
const HEALTH_TIMEOUT_MS = 2000;

/**
 * The gateway's clients of the platform's services: one gRPC channel per upstream address,
 * shared by the typed clients of every service it serves, made on first use and kept. A call that
 * fails because its upstream is down answers UNAVAILABLE naming that service and its setting, and
 * every call an upstream fails is logged (see UpstreamFailureLog).
 */
export class Upstreams {
  private readonly owners = new Map<string, string>();
  private readonly channels = new Map<string, Channel>();
  private readonly clients = new Map<string, GrpcClient<GenServiceMethods>>();
  private readonly healthClients = new Map<string, Client>();
  private readonly failures: UpstreamFailureLog;

  constructor(
    /** Platform service name -> `host:port` of its gRPC server. */
    private readonly addresses: Readonly<Record<string, string>>,
    /** Platform service name -> the gRPC services it answers. */
    readonly exposed: Readonly<Record<string, readonly DescService[]>>,
    logger: Logger,
  ) {
    this.failures = new UpstreamFailureLog(logger);
    for (const [owner, services] of Object.entries(exposed)) for (const service of services) this.owners.set(service.typeName, owner);
  }

  /** The platform service that answers `service` (`governance` for IdentityService). */
  ownerOf(service: DescService): string | undefined {
    return this.owners.get(service.typeName);
  }

  /** The typed client of `service`; 503 UNAVAILABLE naming the service when no upstream serves it. */
  client<T extends GenServiceMethods>(service: GenService<T>): GrpcClient<T> {
    const owner = this.ownerOf(service);
    if (!owner) throw new GatewayError(status.UNIMPLEMENTED, `the gateway does not serve ${service.typeName}`);
    return this.clientOf(owner, service);
  }

  /**
   * The typed client of `service` as platform service `owner` answers it: for services that every
   * platform service answers for itself (PluginInstanceService), where the request names the owner.
   */
  clientOf<T extends GenServiceMethods>(owner: string, service: GenService<T>): GrpcClient<T> {
    const known = this.clients.get(`${owner}/${service.typeName}`);
    if (known) return known as GrpcClient<T>;
    const address = this.addresses[owner];
    if (!address) {
      throw new GatewayError(
        status.UNAVAILABLE,
        `${service.typeName} is answered by the ${owner} service, and no address is configured for it: set gateway.upstreams.${owner} (TRELLIS_GATEWAY_UPSTREAM_${owner.toUpperCase()})`,
      );
    }
    const options = this.clientOptions(owner, address);
    // Requests' calls only: a failed readiness check answers /readyz, not the log.
    const interceptors = [this.failures.interceptor({ owner, address }), ...(options.interceptors ?? [])];
    const client = createGrpcClient(service, address, { channelOptions: { ...options, interceptors } });
    this.clients.set(`${owner}/${service.typeName}`, client as unknown as GrpcClient<GenServiceMethods>);
    return client;
  }

  /**
   * Resolves when the upstream of platform service `owner` answers its gRPC health check as
   * SERVING; rejects with the reason, naming the service and its setting, otherwise.
   */
  checkHealth(owner: string): Promise<void> {
    const address = this.addresses[owner];
    if (!address) return Promise.reject(new Error(`no address is configured for the ${owner} service`));
    let client = this.healthClients.get(owner);
    if (!client) this.healthClients.set(owner, (client = new Client(address, credentials.createInsecure(), this.clientOptions(owner, address))));
    return checkUpstreamHealth(client, { owner, address }, HEALTH_TIMEOUT_MS);
  }

  /** Closes every channel; calls in flight fail with CANCELLED. */
  close(): void {
    for (const channel of this.channels.values()) channel.close();
    this.channels.clear();
    this.clients.clear();
    this.healthClients.clear();
  }

  /** Options of a client of `owner`: the shared channel of its address, and errors that name it when it is down. */
  private clientOptions(owner: string, address: string): ClientOptions {
    let channel = this.channels.get(address);
    if (!channel) this.channels.set(address, (channel = new Channel(address, credentials.createInsecure(), CLIENT_CHANNEL_OPTIONS)));
    // grpc-js takes `channelOverride` among a client's options: every client of one upstream shares its channel.
    return { channelOverride: channel, interceptors: [namingUnreachable(describeUpstream({ owner, address }), channel)] };
  }
}

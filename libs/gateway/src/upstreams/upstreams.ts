import type { DescService } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import { Channel, credentials, status } from '@grpc/grpc-js';
import { CLIENT_CHANNEL_OPTIONS, createGrpcClient, type GrpcClient } from '@trellis/platform';
import { GatewayError } from '../errors/gateway-error';

/**
 * The gateway's clients of the platform's services: one gRPC channel per upstream address,
 * shared by the typed clients of every service it serves, made on first use and kept.
 */
export class Upstreams {
  private readonly owners = new Map<string, string>();
  private readonly channels = new Map<string, Channel>();
  private readonly clients = new Map<string, GrpcClient<GenServiceMethods>>();

  constructor(
    /** Platform service name -> `host:port` of its gRPC server. */
    private readonly addresses: Readonly<Record<string, string>>,
    /** Platform service name -> the gRPC services it answers. */
    readonly exposed: Readonly<Record<string, readonly DescService[]>>,
  ) {
    for (const [owner, services] of Object.entries(exposed)) for (const service of services) this.owners.set(service.typeName, owner);
  }

  /** The platform service that answers `service` (`governance` for IdentityService). */
  ownerOf(service: DescService): string | undefined {
    return this.owners.get(service.typeName);
  }

  /** The typed client of `service`; 503 UNAVAILABLE naming the service when no upstream serves it. */
  client<T extends GenServiceMethods>(service: GenService<T>): GrpcClient<T> {
    const known = this.clients.get(service.typeName);
    if (known) return known as GrpcClient<T>;
    const owner = this.ownerOf(service);
    if (!owner) throw new GatewayError(status.UNIMPLEMENTED, `the gateway does not serve ${service.typeName}`);
    const address = this.addresses[owner];
    if (!address) {
      throw new GatewayError(
        status.UNAVAILABLE,
        `${service.typeName} is answered by the ${owner} service, and no address is configured for it: set gateway.upstreams.${owner} (TRELLIS_GATEWAY_UPSTREAM_${owner.toUpperCase()})`,
      );
    }
    let channel = this.channels.get(address);
    if (!channel) this.channels.set(address, (channel = new Channel(address, credentials.createInsecure(), CLIENT_CHANNEL_OPTIONS)));
    // grpc-js takes `channelOverride` among a client's options: every client of one upstream shares its channel.
    const client = createGrpcClient(service, address, { channelOptions: { channelOverride: channel } });
    this.clients.set(service.typeName, client as unknown as GrpcClient<GenServiceMethods>);
    return client;
  }

  /** Closes every channel; calls in flight fail with CANCELLED. */
  close(): void {
    for (const channel of this.channels.values()) channel.close();
    this.channels.clear();
    this.clients.clear();
  }
}

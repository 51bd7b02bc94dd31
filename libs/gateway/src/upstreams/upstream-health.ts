import { BinaryReader } from '@bufbuild/protobuf/wire';
import { Client, Metadata, status } from '@grpc/grpc-js';

/** `grpc.health.v1.HealthCheckResponse.ServingStatus` names by number. */
const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

/** Where one platform service answers, as the gateway's errors name it. */
export interface UpstreamName {
  owner: string;
  address: string;
}

/** The sentence that names an upstream and the setting that says where it is. */
export function describeUpstream({ owner, address }: UpstreamName): string {
  return `the ${owner} service at ${address} (gateway.upstreams.${owner}, TRELLIS_GATEWAY_UPSTREAM_${owner.toUpperCase()})`;
}

/**
 * Asks an upstream's standard `grpc.health.v1.Health/Check` for the whole server; resolves when
 * it answers SERVING, rejects naming the upstream otherwise (down, starting, draining).
 */
export function checkUpstreamHealth(client: Client, upstream: UpstreamName, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      // HealthCheckRequest{service: ""} is the empty message.
      () => Buffer.alloc(0),
      (bytes: Buffer) => servingStatusOf(bytes),
      {},
      new Metadata(),
      { deadline: Date.now() + timeoutMs },
      (error, answer) => {
        if (error) reject(new Error(healthFailure(error.code, error.details, upstream, timeoutMs)));
        else if (answer !== 'SERVING') reject(new Error(`${describeUpstream(upstream)} is ${answer} (starting or shutting down)`));
        else resolve();
      },
    );
  });
}

function healthFailure(code: number, details: string, upstream: UpstreamName, timeoutMs: number): string {
  if (code === status.UNAVAILABLE) return details;
  if (code === status.DEADLINE_EXCEEDED) return `${describeUpstream(upstream)} did not answer the health check within ${timeoutMs} ms`;
  return `${describeUpstream(upstream)} answered the health check with: ${details}`;
}

function servingStatusOf(bytes: Buffer): string {
  const reader = new BinaryReader(bytes);
  let value = 0;
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1) value = reader.int32();
    else reader.skip(wireType);
  }
  return SERVING_STATUS[value] ?? `status ${value}`;
}

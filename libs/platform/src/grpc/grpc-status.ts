import { status } from '@grpc/grpc-js';

/** gRPC status names by code, as Prometheus labels and logs show them. */
export const CODE_NAMES = Object.fromEntries(Object.entries(status).map(([name, code]) => [code, name])) as Record<number, string>;

/**
 * Longest status details a call is answered with. Clients refuse trailers past their metadata
 * limit (8 KiB in many), and losing the connection fails every other call on it.
 */
export const MAX_STATUS_DETAILS = 1024;

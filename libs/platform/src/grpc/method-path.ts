/** A gRPC method as the server saw it: `package.Service` and `Method`. */
export interface GrpcMethodName {
  service: string;
  method: string;
  /** `package.Service/Method`, as audit records name it. */
  full: string;
}

/** Reads `/package.Service/Method` (what grpc-js `getPath()` answers). */
export function grpcMethodOf(path: string | undefined): GrpcMethodName {
  const full = (path ?? '/unknown/unknown').replace(/^\//, '');
  const slash = full.lastIndexOf('/');
  return { service: full.slice(0, slash), method: full.slice(slash + 1), full };
}

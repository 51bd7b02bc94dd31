import { status } from '@grpc/grpc-js';
import { DomainError } from '@trellis/platform';

/**
 * A model's runtime failed on a request that fitted its signature: INTERNAL (500 over REST), with
 * a message that names the revision and excerpts the runtime's own (never its stack). It carries
 * the request id and revision the answer's `trellis-request-id` and `trellis-revision` name.
 */
export class ModelRunError extends DomainError {
  readonly code = status.INTERNAL;

  constructor(
    message: string,
    readonly requestId: string,
    readonly revision: string | undefined,
  ) {
    super(message, { metadata: { requestId, ...(revision !== undefined && { revision }) } });
  }
}

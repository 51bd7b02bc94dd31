import { status } from '@grpc/grpc-js';
import { excerpt } from '@trellis/platform';
import { GatewayError } from '../errors/gateway-error';

/**
 * Refuses a request body declared as anything but JSON with 415: JSON routes read only
 * `application/json` (any parameters, such as `charset=utf-8`), as MLflow's server does, so a body
 * a browser form or a mistaken client sends as text or form data is never read as a request.
 */
export function assertJsonContentType(contentType: string | undefined): void {
  if (contentType?.split(';')[0].trim().toLowerCase() === 'application/json') return;
  const sent = contentType === undefined ? 'no Content-Type' : `Content-Type: ${excerpt(contentType, 64)}`;
  throw new GatewayError(status.INVALID_ARGUMENT, `the request body must be JSON sent with Content-Type: application/json; this request has ${sent}`, 415);
}

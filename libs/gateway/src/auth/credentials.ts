import { status } from '@grpc/grpc-js';
import { API_KEY_PATTERN, type StatusDetails } from '@trellis/platform';
import { GatewayError } from '../errors/gateway-error';

/** What an `Authorization` header carries: nothing, an API key to exchange, or a token to forward. */
export type Credentials = { kind: 'none' } | { kind: 'apiKey'; apiKey: string } | { kind: 'token'; token: string };

/**
 * Reads `Authorization: Bearer <API key or token>` or `Authorization: Basic base64(user:<API key>)`
 * (what the MLflow client sends from MLFLOW_TRACKING_USERNAME and _PASSWORD; the user name is not
 * used). A value that is not an API key is a token (a JWT) and is forwarded as it is.
 */
export function credentialsOf(header: string | undefined): Credentials {
  if (header === undefined || header === '') return { kind: 'none' };
  const space = header.indexOf(' ');
  const scheme = header.slice(0, space < 0 ? header.length : space).toLowerCase();
  const value = space < 0 ? '' : header.slice(space + 1).trim();
  if (scheme === 'bearer' && value !== '') return secret(value);
  if (scheme === 'basic' && value !== '') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon >= 0 && colon < decoded.length - 1) return secret(decoded.slice(colon + 1));
    throw unauthenticated('malformed Basic credentials: expected base64 of <user>:<API key>');
  }
  throw unauthenticated('malformed authorization header: expected `Bearer <API key or token>` or `Basic base64(<user>:<API key>)`');
}

function secret(value: string): Credentials {
  return API_KEY_PATTERN.test(value) ? { kind: 'apiKey', apiKey: value } : { kind: 'token', token: value };
}

export function unauthenticated(message: string, details?: StatusDetails): GatewayError {
  return new GatewayError(status.UNAUTHENTICATED, message, undefined, undefined, details);
}

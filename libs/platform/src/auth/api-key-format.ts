/**
 * The shape of a Trellis API key, `trellis_<16 hex digits of key id>_<43 base64url characters>`:
 * governance issues and parses keys of this shape, the gateway tells keys from tokens by it, and
 * services recognise a key sent where a token belongs.
 */
export const API_KEY_PATTERN = /^trellis_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** How a caller turns an API key into the token gRPC calls take; the end of every message that asks for a token. */
export const HOW_TO_GET_A_TOKEN =
  'exchange an API key for a token with trellis.governance.v1.TokenService/ExchangeApiKey (the HTTP gateway takes API keys directly)';

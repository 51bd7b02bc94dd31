import { InvalidKeyError } from '../errors';

const MAX_KEY_BYTES = 1024;
const MAX_SEGMENT_BYTES = 255;
// eslint-disable-next-line no-control-regex -- control characters are what this looks for
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Checks `key` against the `ObjectKey` rules of the storage contract and throws `InvalidKeyError`,
 * saying which rule it breaks, when it does not hold. Plugins call it first in every method.
 */
export function validateObjectKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new InvalidKeyError(String(key), 'a key must be a string');
  const reason = keyProblem(key);
  if (reason) throw new InvalidKeyError(key, reason);
}

function keyProblem(key: string): string | undefined {
  if (key.length === 0) return 'a key may not be empty';
  if (key.includes('\0')) return 'a key may not contain NUL bytes';
  if (CONTROL.test(key)) return 'a key may not contain control characters';
  if (/\p{Cs}/u.test(key)) return 'a key must be valid Unicode (it contains a lone surrogate)';
  if (key.includes('\\')) return "a key may not contain backslashes; separate segments with '/'";
  if (key.startsWith('/')) return "a key may not start with '/': keys are relative to the store";
  if (/^[A-Za-z]:/.test(key)) return "a key may not start with a drive letter ('C:')";
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) return `a key may be at most ${MAX_KEY_BYTES} bytes of UTF-8`;
  for (const segment of key.split('/')) {
    if (segment === '') return "a key may not contain empty segments ('//' or a trailing '/')";
    if (segment === '.' || segment === '..') return "a key may not contain '.' or '..' segments";
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) return `each '/'-separated segment may be at most ${MAX_SEGMENT_BYTES} bytes of UTF-8`;
  }
  return undefined;
}

/** Orders keys as listings must: by their UTF-8 bytes (which differs from JS string order for some characters). */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

import { API_KEY_PATTERN } from '@trellis/platform';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A new API key: `trellis_<16 hex id>_<43 base64url characters of 256 random bits>`. */
export function newApiKey(): { id: string; secret: string } {
  const id = randomBytes(8).toString('hex');
  return { id, secret: `trellis_${id}_${randomBytes(32).toString('base64url')}` };
}

/** The id and secret part of a key, or undefined if it is not shaped like a Trellis key. */
export function parseApiKey(secret: string): { id: string; random: string } | undefined {
  const match = API_KEY_PATTERN.exec(secret);
  return match ? { id: match[1], random: match[2] } : undefined;
}

/** What is stored of a key: SHA-256 of the whole secret (256 random bits need no slow hash). */
export function hashApiKey(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Compares a presented key with a stored hash in constant time. */
export function apiKeyMatches(secret: string, storedSha256: string): boolean {
  const presented = Buffer.from(hashApiKey(secret), 'hex');
  const stored = Buffer.from(storedSha256, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

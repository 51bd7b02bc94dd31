import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../errors';

/** Page size when a list request leaves `page_size` at 0. */
export const DEFAULT_PAGE_SIZE = 100;
/** Largest `page_size` a list request may ask for. */
export const MAX_PAGE_SIZE = 1000;

/** A list request's `page_size`: 0 means 100; negative or over 1000 is INVALID_ARGUMENT. */
export function pageSizeOf(requested: number): number {
  if (requested === 0) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(requested) || requested < 0 || requested > MAX_PAGE_SIZE) {
    throw new InvalidArgumentError(`must be between 0 and ${MAX_PAGE_SIZE}`, 'page_size');
  }
  return requested;
}

/**
 * The opaque `next_page_token` for a list: the position the next page starts after (a sort key)
 * and a fingerprint of the query's filters, so the token only continues the same listing.
 */
export function encodePageToken(after: string, query: Record<string, string | number | boolean | null | undefined> = {}): string {
  return Buffer.from(JSON.stringify({ a: after, q: fingerprint(query) })).toString('base64url');
}

/** What positions look like when they are row sequence numbers. */
export const SEQUENCE_POSITION = /^[1-9]\d{0,18}$/;

/**
 * The position a `page_token` continues after, or undefined for no token. INVALID_ARGUMENT naming
 * `page_token` for a token this service did not make, one made for other filters, or one whose
 * position does not look like `position` (tokens are not signed: check what they carry).
 */
export function decodePageToken(
  token: string,
  query: Record<string, string | number | boolean | null | undefined> = {},
  position = /^[^\0]{0,1024}$/,
): string | undefined {
  if (token === '') return undefined;
  let decoded: { a?: unknown; q?: unknown } | undefined;
  try {
    decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as typeof decoded;
  } catch {
    decoded = undefined;
  }
  if (typeof decoded?.a !== 'string' || typeof decoded.q !== 'string' || !position.test(decoded.a)) {
    throw new InvalidArgumentError('is not a token a previous page of this list returned', 'page_token');
  }
  if (decoded.q !== fingerprint(query)) {
    throw new InvalidArgumentError('belongs to a listing with other filters; start again without it', 'page_token');
  }
  return decoded.a;
}

/**
 * One page out of `rows` read with a limit of `size + 1`: the first `size` rows, and the token of
 * the page after them, or '' when the extra row shows there is none.
 */
export function pageOf<T>(
  rows: T[],
  size: number,
  positionOf: (row: T) => string,
  query: Record<string, string | number | boolean | null | undefined> = {},
): { items: T[]; nextPageToken: string } {
  const items = rows.slice(0, size);
  return { items, nextPageToken: rows.length > size ? encodePageToken(positionOf(items[size - 1]), query) : '' };
}

function fingerprint(query: Record<string, unknown>): string {
  const canonical = JSON.stringify(Object.keys(query).sort().map((key) => [key, query[key] ?? null]));
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
}

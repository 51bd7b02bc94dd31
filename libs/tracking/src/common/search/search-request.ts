import { decodePageToken, encodePageToken, InvalidArgumentError } from '@trellis/platform';
import { FilterSyntaxError } from './filter-syntax.error';
import { SEARCH_LIMITS } from './search-limits';

/**
 * Runs a parser over a request's `filter` or one of its `order_by` entries, turning its
 * FilterSyntaxError into INVALID_ARGUMENT naming that field, with the position and the expected
 * token in the message. `entry` is the order_by entry's index when the request has several.
 */
export function parseField<T>(field: 'filter' | 'order_by', parse: () => T, entry?: number): T {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof FilterSyntaxError)) throw error;
    const message = error.message.replace(/^(filter|order_by): /, '');
    throw new InvalidArgumentError(entry === undefined ? message : `entry ${entry}: ${message}`, field);
  }
}

/** Parses every order_by entry, at most SEARCH_LIMITS.orderByEntries, and refuses one that names a key twice, as MLflow does. */
export function parseOrderByList<T extends { entity: string; key: string }>(texts: readonly string[], parse: (text: string) => T): T[] {
  if (texts.length > SEARCH_LIMITS.orderByEntries) throw new InvalidArgumentError(`has ${texts.length} entries; the limit is ${SEARCH_LIMITS.orderByEntries}`, 'order_by');
  const orders = texts.map((text, index) => parseField('order_by', () => parse(text), texts.length > 1 ? index : undefined));
  const seen = new Set<string>();
  orders.forEach((order, index) => {
    const name = `${order.entity}:${order.key}`;
    if (seen.has(name)) throw new InvalidArgumentError(`entry ${index} orders by ${JSON.stringify(texts[index].trim())} again; name each key once`, 'order_by');
    seen.add(name);
  });
  return orders;
}

/** A `page_size` of 0 means `fallback`; a negative one, a fraction or one over `max` is INVALID_ARGUMENT. */
export function pageSizeWithin(requested: number, fallback: number, max: number): number {
  if (requested === 0) return fallback;
  if (!Number.isSafeInteger(requested) || requested < 0 || requested > max) {
    throw new InvalidArgumentError(`must be between 0 and ${max}, found ${requested}`, 'page_size');
  }
  return requested;
}

/** What a search's page token is bound to: a token only continues the same listing. */
export type SearchListing = Record<string, string>;

// Tokens are not signed: an offset must stay a safe integer that both databases accept.
const OFFSET = /^[1-9]\d{0,14}$/;

/** The offset a `page_token` continues from, 0 for none; INVALID_ARGUMENT for another listing's token. */
export function offsetOf(pageToken: string, listing: SearchListing): number {
  return Number(decodePageToken(pageToken, listing, OFFSET) ?? 0);
}

/** The first `size` of `rows` (read with a limit of size + 1 at `offset`) and the next page's token, '' after the last. */
export function offsetPage<T>(rows: T[], size: number, offset: number, listing: SearchListing): { items: T[]; nextPageToken: string } {
  return { items: rows.slice(0, size), nextPageToken: rows.length > size ? encodePageToken(String(offset + size), listing) : '' };
}

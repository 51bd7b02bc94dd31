import { InvalidArgumentError } from '@trellis/platform';

/** A page request as list calls take it: size checked, token decoded to the last key seen. */
export interface Page {
  size: number;
  after?: string;
}

/** Reads `page_size` (0 means 100, at most 1000) and an opaque `page_token`. */
export function readPage(pageSize: number, pageToken: string): Page {
  if (pageSize < 0 || pageSize > 1000) throw new InvalidArgumentError('must be from 0 to 1000', 'page_size');
  if (!pageToken) return { size: pageSize || 100 };
  const after = Buffer.from(pageToken, 'base64url').toString('utf8');
  if (!after.startsWith('k:')) throw new InvalidArgumentError('is not a token this list returned', 'page_token');
  return { size: pageSize || 100, after: after.slice(2) };
}

/** The token of the page after `rows`, or '' when `rows` was the last page. */
export function nextPageToken<T>(rows: T[], size: number, key: (row: T) => string): string {
  return rows.length < size ? '' : Buffer.from(`k:${key(rows[rows.length - 1])}`).toString('base64url');
}

import { InvalidArgumentError } from '@trellis/platform';

/** Where a page ends: the sort key of its last row, as strings and numbers in sort order. */
export type PagePosition = Array<string | number>;

/** The position a page token continues after: a JSON array of `length` strings and numbers. */
export function positionOf(position: string | undefined, length = 2): PagePosition | undefined {
  if (position === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(position);
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== length || !parsed.every((part) => typeof part === 'string' || Number.isSafeInteger(part))) {
    throw new InvalidArgumentError('is not a token a previous page of this list returned', 'page_token');
  }
  return parsed as PagePosition;
}

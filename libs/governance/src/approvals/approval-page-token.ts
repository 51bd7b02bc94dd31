import { InvalidArgumentError } from '@trellis/platform';
import type { ApprovalStateName } from './approval.entity';

/** The query a page belongs to, and where the next page starts. */
export interface ApprovalCursor {
  projectId: string;
  state: ApprovalStateName | null;
  /** The next page holds rows inserted before this one (lower `seq`). */
  beforeSeq: number;
}

/** An opaque token for the page after `cursor`. */
export function encodePageToken(cursor: ApprovalCursor): string {
  return Buffer.from(JSON.stringify({ p: cursor.projectId, s: cursor.state, b: cursor.beforeSeq })).toString('base64url');
}

/**
 * The `seq` the next page starts below. Throws InvalidArgumentError on `page_token` for a token
 * this service did not make, or one made for another project or state filter.
 */
export function decodePageToken(token: string, query: Omit<ApprovalCursor, 'beforeSeq'>): number {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidArgumentError('is not a token this service returned', 'page_token');
  }
  const { p, s, b } = (decoded ?? {}) as { p?: unknown; s?: unknown; b?: unknown };
  if (typeof p !== 'string' || !(s === null || typeof s === 'string') || !Number.isSafeInteger(b) || (b as number) < 1) {
    throw new InvalidArgumentError('is not a token this service returned', 'page_token');
  }
  if (p !== query.projectId || s !== query.state) {
    throw new InvalidArgumentError('belongs to a listing with another project_id or state; start again without it', 'page_token');
  }
  return b as number;
}

import { compareKeys, type ListOptions, type ListPage, type ObjectStore, type ObjectSummary } from '@trellis/plugin-sdk';
import { isReservedKey } from './key-record';

const MAX_LIMIT = 1000;
const CONCURRENT_SIZES = 16;

/**
 * A page of the inner store's objects without the key records, each with the size `sizeOf` gives
 * (undefined drops an object that went away). Key records make inner pages hold fewer objects than
 * asked, so a cursor here names an inner page and the last key taken from it; inner cursors are
 * opaque, and a page is never cut short of `limit` while objects remain.
 */
export async function listObjects(inner: ObjectStore, options: ListOptions, sizeOf: (object: ObjectSummary) => Promise<number | undefined>): Promise<ListPage> {
  const requested = options.limit ?? MAX_LIMIT;
  if (!Number.isInteger(requested) || requested < 1) throw new RangeError(`list limit must be an integer of at least 1, got ${options.limit}`);
  const limit = Math.min(requested, MAX_LIMIT);
  const start = decodeCursor(options.cursor);
  const taken: Array<{ object: ObjectSummary; page: string | undefined }> = [];
  let page = start.page;
  for (;;) {
    const listed = await inner.list({ prefix: options.prefix, cursor: page, limit: Math.min(limit + 1, MAX_LIMIT) });
    for (const object of listed.objects) {
      if (isReservedKey(object.key) || (start.after !== undefined && compareKeys(object.key, start.after) <= 0)) continue;
      taken.push({ object, page });
    }
    if (taken.length > limit || listed.nextCursor === undefined) break;
    page = listed.nextCursor;
  }
  const objects = await sized(taken.slice(0, limit).map((t) => t.object), sizeOf);
  if (taken.length <= limit) return { objects };
  const last = taken[limit - 1];
  return { objects, nextCursor: encodeCursor(last.page, last.object.key) };
}

async function sized(objects: ObjectSummary[], sizeOf: (object: ObjectSummary) => Promise<number | undefined>): Promise<ObjectSummary[]> {
  const sizes: Array<number | undefined> = new Array(objects.length);
  let next = 0;
  const worker = async () => {
    while (next < objects.length) {
      const i = next++;
      sizes[i] = await sizeOf(objects[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENT_SIZES, objects.length) }, worker));
  return objects.flatMap((object, i) => (sizes[i] === undefined ? [] : [{ ...object, size: sizes[i] as number }]));
}

function encodeCursor(page: string | undefined, after: string): string {
  return Buffer.from(JSON.stringify([page ?? null, after])).toString('base64url');
}

function decodeCursor(cursor: string | undefined): { page?: string; after?: string } {
  if (cursor === undefined) return {};
  try {
    const [page, after] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [unknown, unknown];
    if ((page === null || typeof page === 'string') && typeof after === 'string') return { page: page ?? undefined, after };
  } catch {
    // falls through to the refusal
  }
  throw new RangeError('list cursor is not one this store issued; pass the nextCursor of the previous page');
}

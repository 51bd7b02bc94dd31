import type { ObjectStore, ObjectSummary } from '../contracts/storage';

/** Every object whose key starts with `prefix`, in key order, fetching pages of `pageSize` as it goes. */
export async function* iterateObjects(
  store: Pick<ObjectStore, 'list'>,
  options: { prefix?: string; pageSize?: number } = {},
): AsyncGenerator<ObjectSummary> {
  let cursor: string | undefined;
  do {
    const page = await store.list({ prefix: options.prefix, cursor, limit: options.pageSize });
    yield* page.objects;
    cursor = page.nextCursor;
  } while (cursor !== undefined);
}

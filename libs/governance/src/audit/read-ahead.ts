/**
 * The items `fetch(after)` returns page after page, `after` being the position of the last item
 * read (0 at first), until a page has fewer than `pageSize` items. The next page is read while this
 * one is consumed; a consumer that stops early leaves that read to finish unobserved.
 */
export async function* readAhead<T>(fetch: (after: bigint) => Promise<T[]>, positionOf: (item: T) => bigint, pageSize: number): AsyncGenerator<T> {
  let pending: Promise<T[]> | undefined = fetch(0n);
  try {
    while (pending) {
      const page: T[] = await pending;
      pending = page.length === pageSize ? fetch(positionOf(page[page.length - 1])) : undefined;
      yield* page;
    }
  } finally {
    pending?.catch(() => undefined);
  }
}

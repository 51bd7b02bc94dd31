import { mapConcurrently, registryPage, type FetchPage } from './registry-paging';

/** A registry that pages through `items` by offset, recording each page size asked for. */
function fakeRegistry(items: string[]) {
  const sizes: number[] = [];
  const fetch: FetchPage<string> = async (pageToken, pageSize) => {
    sizes.push(pageSize);
    const offset = pageToken ? Number(pageToken) : 0;
    const end = offset + pageSize;
    return { items: items.slice(offset, end), nextPageToken: end < items.length ? String(end) : '' };
  };
  return { fetch, sizes };
}

describe('registry pages', () => {
  const names = Array.from({ length: 2500 }, (_, i) => `m${i}`);

  it("passes the registry's own page and token through when everything is checked upstream", async () => {
    const { fetch, sizes } = fakeRegistry(names);
    expect(await registryPage(fetch, 10, '20')).toEqual({ items: names.slice(20, 30), nextPageToken: '30' });
    expect(sizes).toEqual([10]);
  });

  it('pages through the items a local check keeps, across registry pages, without losing or repeating one', async () => {
    const { fetch } = fakeRegistry(names);
    const check = { test: (name: string) => name.endsWith('7'), listing: "name ILIKE '%7'" };
    const seen: string[] = [];
    let token = '';
    do {
      const page = await registryPage(fetch, 60, token, check);
      expect(page.items.length).toBeLessThanOrEqual(60);
      seen.push(...page.items);
      token = page.nextPageToken;
    } while (token);
    expect(seen).toEqual(names.filter((name) => name.endsWith('7')));
  });

  it('refuses a token made for another filter, or not made here', async () => {
    const { fetch } = fakeRegistry(names);
    const first = await registryPage(fetch, 5, '', { test: () => true, listing: 'a' });
    await expect(registryPage(fetch, 5, first.nextPageToken, { test: () => true, listing: 'b' })).rejects.toThrow("parameter 'page_token'");
    await expect(registryPage(fetch, 5, 'garbage', { test: () => true, listing: 'a' })).rejects.toThrow("parameter 'page_token'");
  });

  it('maps with at most the given number of calls at a time, keeping the order', async () => {
    let running = 0;
    let most = 0;
    const doubled = await mapConcurrently([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      most = Math.max(most, ++running);
      await new Promise((resolve) => setTimeout(resolve, 8 - n));
      running--;
      return n * 2;
    });
    expect(doubled).toEqual([2, 4, 6, 8, 10, 12, 14]);
    expect(most).toBe(3);
  });
});

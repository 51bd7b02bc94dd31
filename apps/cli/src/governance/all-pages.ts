/**
 * Every item of a paged listing: calls `page` with each next_page_token, from the first page
 * (empty token) until a page has none, and collects what `items` takes from each.
 */
export async function allPages<Page extends { nextPageToken?: string }, Item>(page: (pageToken: string) => Promise<Page>, items: (page: Page) => Item[] | undefined): Promise<Item[]> {
  const all: Item[] = [];
  let pageToken = '';
  do {
    const answer = await page(pageToken);
    all.push(...(items(answer) ?? []));
    pageToken = answer.nextPageToken ?? '';
  } while (pageToken);
  return all;
}

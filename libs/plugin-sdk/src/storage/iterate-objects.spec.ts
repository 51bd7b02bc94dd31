import type { ListOptions, ListPage } from '../contracts';
import { iterateObjects } from './iterate-objects';

describe('iterateObjects', () => {
  it('follows cursors through every page with the prefix and page size', async () => {
    const calls: ListOptions[] = [];
    const keys = ['p/1', 'p/2', 'p/3', 'p/4', 'p/5'];
    const store = {
      list: async (options: ListOptions = {}): Promise<ListPage> => {
        calls.push(options);
        const start = options.cursor ? Number(options.cursor) : 0;
        const end = start + (options.limit ?? 1000);
        const objects = keys.slice(start, end).map((key) => ({ key, size: 1, lastModified: new Date(0) }));
        return end < keys.length ? { objects, nextCursor: String(end) } : { objects };
      },
    };
    const seen: string[] = [];
    for await (const object of iterateObjects(store, { prefix: 'p/', pageSize: 2 })) seen.push(object.key);
    expect(seen).toEqual(keys);
    expect(calls).toEqual([
      { prefix: 'p/', cursor: undefined, limit: 2 },
      { prefix: 'p/', cursor: '2', limit: 2 },
      { prefix: 'p/', cursor: '4', limit: 2 },
    ]);
  });
});

import { ProjectResolver, type ListProjects } from './project-resolver';

describe('ProjectResolver', () => {
  let now: number;
  let resolver: ProjectResolver;
  let views: Record<string, Array<{ id: string; name: string }>>;
  const calls: string[] = [];
  /** Lists `who`'s projects one to a page, so every lookup pages. */
  const listAs =
    (who: string): ListProjects =>
    async (pageToken) => {
      calls.push(who);
      const index = pageToken ? Number(pageToken) : 0;
      return { projects: views[who].slice(index, index + 1), nextPageToken: index + 1 < views[who].length ? String(index + 1) : '' };
    };

  beforeEach(() => {
    views = {
      alice: [
        { id: 'p-1', name: 'default' },
        { id: 'p-2', name: 'research' },
      ],
      bob: [{ id: 'p-1', name: 'default' }],
    };
    now = 0;
    calls.length = 0;
    resolver = new ProjectResolver({ ttlMs: 1000, now: () => now });
  });

  it("resolves a name through every page of the caller's projects, then answers from the cache", async () => {
    expect(await resolver.idOf('alice-token', 'research', listAs('alice'))).toBe('p-2');
    expect(calls).toEqual(['alice', 'alice']);
    expect(await resolver.idOf('alice-token', 'research', listAs('alice'))).toBe('p-2');
    expect(calls).toHaveLength(2);
  });

  it("never answers one caller with another's view", async () => {
    await resolver.idOf('alice-token', 'research', listAs('alice'));
    await expect(resolver.idOf('bob-token', 'research', listAs('bob'))).rejects.toMatchObject({ code: 5, message: 'project "research" does not exist, or you may not read it' });
  });

  it('asks again once the entry is older than the ttl, and does not cache a miss', async () => {
    await resolver.idOf('alice-token', 'default', listAs('alice'));
    now = 1001;
    await resolver.idOf('alice-token', 'default', listAs('alice'));
    expect(calls).toEqual(['alice', 'alice']);

    await expect(resolver.idOf('bob-token', 'research', listAs('bob'))).rejects.toThrow();
    views.bob.push({ id: 'p-2', name: 'research' });
    expect(await resolver.idOf('bob-token', 'research', listAs('bob'))).toBe('p-2');
  });
});

import { GroupCommit } from './group-commit';

describe('GroupCommit', () => {
  it('commits items that arrive during a commit together in the next one', async () => {
    const groups: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const commit = new GroupCommit<number>(async (items) => {
      groups.push(items);
      if (groups.length === 1) await gate;
    });
    const first = commit.add(1);
    const rest = [2, 3, 4].map((n) => commit.add(n));
    release();
    await Promise.all([first, ...rest]);
    expect(groups).toEqual([[1], [2, 3, 4]]);
  });

  it('caps a group at its maximum size', async () => {
    const groups: number[][] = [];
    const commit = new GroupCommit<number>(async (items) => void groups.push(items), 2);
    await Promise.all([1, 2, 3, 4, 5].map((n) => commit.add(n)));
    expect(groups.flat()).toEqual([1, 2, 3, 4, 5]);
    expect(Math.max(...groups.map((group) => group.length))).toBeLessThanOrEqual(2);
  });

  it('fails only the bad item of a failed group', async () => {
    const committed: number[] = [];
    const commit = new GroupCommit<number>(async (items) => {
      if (items.includes(13)) throw new Error('13 is refused');
      committed.push(...items);
    });
    const results = await Promise.allSettled([1, 13, 2].map((n) => commit.add(n)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(committed.sort()).toEqual([1, 2]);
  });
});

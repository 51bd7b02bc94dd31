import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, utimesSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatasetCache } from './dataset-cache';
import { removeTree } from './file-trees';

/** A fill that writes `bytes` bytes in `data/part` and counts its calls. */
function filler(bytes = 6) {
  const fill = async (dir: string) => {
    fill.calls += 1;
    await mkdir(join(dir, 'data'));
    await writeFile(join(dir, 'data', 'part'), 'x'.repeat(bytes));
  };
  fill.calls = 0;
  return fill;
}

describe('DatasetCache', () => {
  let root: string;
  const version = (datasetId: string, number = 1) => ({ datasetId, version: number });

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'dataset-cache-'));
  });

  afterEach(() => removeTree(root));

  it('fetches a version once however many ask at once, into a folder without write bits', async () => {
    const cache = new DatasetCache(root, 0);
    const fill = filler();
    const dirs = await Promise.all([cache.version(version('a'), fill), cache.version(version('a'), fill), cache.version(version('a'), fill)]);
    expect(fill.calls).toBe(1);
    expect(new Set(dirs)).toEqual(new Set([join(root, 'a', '1')]));
    expect(readFileSync(join(dirs[0], 'data', 'part'), 'utf8')).toBe('xxxxxx');
    for (const path of [dirs[0], join(dirs[0], 'data'), join(dirs[0], 'data', 'part')]) expect(statSync(path).mode & 0o222).toBe(0);
    await cache.version(version('a'), fill);
    expect(fill.calls).toBe(1);
  });

  it('leaves nothing of a fill that fails, and fills anew at the next ask', async () => {
    const cache = new DatasetCache(root, 0);
    const failing = async (dir: string) => {
      await writeFile(join(dir, 'half'), 'x');
      throw new Error('the data service went away');
    };
    await expect(cache.version(version('a'), failing)).rejects.toThrow('the data service went away');
    expect(existsSync(join(root, 'a', '1'))).toBe(false);
    expect(readdirSync(join(root, '.partial'))).toEqual([]);
    const fill = filler();
    await cache.version(version('a'), fill);
    expect(fill.calls).toBe(1);
  });

  it('removes the least recently used versions beyond its bound, never one an attempt holds', async () => {
    const cache = new DatasetCache(root, 19);
    await cache.pin('job.1', [version('held')]);
    await cache.version(version('held'), filler());
    await cache.version(version('old'), filler());
    await cache.version(version('used'), filler());
    const hourAgo = Date.now() / 1000 - 3600;
    for (const [datasetId, age] of [['held', 3], ['old', 2], ['used', 1]] as const) utimesSync(join(root, datasetId, '1'), hourAgo - age, hourAgo - age);
    await cache.version(version('used'), filler());

    await cache.version(version('new'), filler());
    expect(['held', 'old', 'used', 'new'].filter((datasetId) => existsSync(join(root, datasetId, '1')))).toEqual(['held', 'used', 'new']);

    await cache.release('job.1');
    await cache.version(version('newer'), filler());
    expect(['held', 'used', 'new', 'newer'].filter((datasetId) => existsSync(join(root, datasetId, '1')))).toEqual(['used', 'new', 'newer']);
  });

  it('drops the folders of attempts no longer live and fetches left half done', async () => {
    const cache = new DatasetCache(root, 0);
    await cache.pin('job.1', [version('a')]);
    await cache.pin('job.2', [version('a')]);
    await mkdir(join(root, '.partial', 'a.1.left'), { recursive: true });
    await cache.prune(new Set(['job.2']));
    expect(readdirSync(join(root, '.attempts'))).toEqual(['job.2']);
    expect(existsSync(join(root, '.partial'))).toBe(false);
  });
});

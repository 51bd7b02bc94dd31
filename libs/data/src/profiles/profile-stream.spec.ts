import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { MemoryObjectStore } from '@trellis/plugin-sdk/testing';
import { profileStream } from './profile-stream';
import { ProfileError } from './table-profiler';
import { tabularFormatOf } from './tabular-format';

describe('tabularFormatOf', () => {
  it('names CSV, JSON Lines and Parquet by extension, in any case, and nothing else', () => {
    expect(tabularFormatOf('train/part-0.CSV')).toBe('csv');
    expect(tabularFormatOf('a.jsonl')).toBe('jsonl');
    expect(tabularFormatOf('a.ndjson')).toBe('jsonl');
    expect(tabularFormatOf('x/y.parquet')).toBe('parquet');
    expect(tabularFormatOf('images/cat.png')).toBeUndefined();
    expect(tabularFormatOf('csv')).toBeUndefined();
    expect(tabularFormatOf('dir.csv/README')).toBeUndefined();
  });
});

describe('profileStream', () => {
  let temp: string;
  beforeEach(async () => {
    temp = await mkdtemp(join(tmpdir(), 'profile-stream-spec-'));
  });
  afterEach(async () => {
    await rm(temp, { recursive: true, force: true });
  });

  it('profiles a blob read from a storage instance, and leaves no file behind', async () => {
    const store = new MemoryObjectStore();
    await store.put('blobs/t.csv', Buffer.from('a,b\n1,x\n2,y\n3,x\n'));
    const profile = await profileStream(await store.get('blobs/t.csv'), 'csv', { tempDirectory: temp });
    expect(profile.rows).toBe(3);
    expect(profile.columns.map((c) => [c.name, c.type, c.count])).toEqual([
      ['a', 'integer', 3],
      ['b', 'string', 3],
    ]);
    expect(await readdir(temp)).toEqual([]);
  });

  it('passes on a failing stream and a file that is not its format, leaving no file behind', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('storage went away'));
      },
    });
    await expect(profileStream(failing, 'csv', { tempDirectory: temp })).rejects.toThrow('storage went away');
    await expect(profileStream(Readable.from([Buffer.from('not parquet at all')]), 'parquet', { tempDirectory: temp })).rejects.toThrow(ProfileError);
    expect(await readdir(temp)).toEqual([]);
  });
});

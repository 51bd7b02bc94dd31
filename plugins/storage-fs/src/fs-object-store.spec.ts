import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import type { ObjectStore } from '@trellis/plugin-sdk';
import { createPluginInstance, createTestContext } from '@trellis/plugin-sdk/testing';
import storageFs from './index';

let base: string;
let root: string;
let store: ObjectStore;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'storage-fs-spec-'));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

beforeEach(async () => {
  root = await mkdtemp(join(base, 'root-'));
  store = await open(root);
});

function open(at: string): Promise<ObjectStore> {
  return Promise.resolve(storageFs.create(createTestContext({ dataDir: base }), { root: at }));
}

/** Every file under `dir`, as paths relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() || e.isSymbolicLink()).map((e) => relative(dir, join(e.parentPath ?? e.path, e.name))).sort();
}

function stalled(): Readable {
  return new Readable({ read: () => undefined });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('storage-fs on disk', () => {
  it('keeps each object as a plain file at its key under objects/', async () => {
    await store.put('models/churn/model.onnx', Buffer.from('weights'));
    expect(await readFile(join(root, 'objects', 'models', 'churn', 'model.onnx'), 'utf8')).toBe('weights');
  });

  it('takes a relative root from the working directory', async () => {
    const cwd = process.cwd();
    process.chdir(base);
    try {
      const relativeStore = await open('relative-root');
      await relativeStore.put('a.txt', Buffer.from('here'));
    } finally {
      process.chdir(cwd);
    }
    expect(await readFile(join(base, 'relative-root', 'objects', 'a.txt'), 'utf8')).toBe('here');
  });

  it('leaves nothing but the staging area when a write fails midway', async () => {
    const body = stalled();
    const putting = store.put('half/written', body);
    body.push(Buffer.alloc(3 * 1024 * 1024, 1));
    setTimeout(() => body.destroy(new Error('connection reset')), 20);
    await expect(putting).rejects.toThrow('connection reset');
    expect(await store.head('half/written')).toBeUndefined();
    expect(await filesUnder(join(root, 'objects'))).toEqual([]);
    expect(await filesUnder(join(root, 'staging'))).toEqual([]);
  });

  it('removes empty directories when their last object is deleted', async () => {
    await store.put('deep/er/still/object', Buffer.from('x'));
    await store.delete('deep/er/still/object');
    expect(await readdir(join(root, 'objects'))).toEqual([]);
    await store.put('deep/er/again', Buffer.from('y'));
    expect((await readAll(await store.get('deep/er/again'))).toString()).toBe('y');
  });

  it('reports the hash of the content on disk when a file was changed behind its back', async () => {
    await store.put('edited', Buffer.from('original'));
    await writeFile(join(root, 'objects', 'edited'), 'changed by hand');
    const info = await store.head('edited');
    expect(info).toMatchObject({ size: 15, sha256: createHash('sha256').update('changed by hand').digest('hex') });
  });

  it('copies to a file of its own, which a later overwrite of the source leaves alone, and staging empty', async () => {
    await store.put('models/v1.bin', Buffer.from('weights v1'));
    await store.copy?.('models/v1.bin', 'registry/m/1/model.bin');
    const copied = await stat(join(root, 'objects', 'registry', 'm', '1', 'model.bin'));
    expect(copied.nlink).toBe(1);
    await writeFile(join(root, 'objects', 'models', 'v1.bin'), 'changed in place by hand');
    expect(await readFile(join(root, 'objects', 'registry', 'm', '1', 'model.bin'), 'utf8')).toBe('weights v1');
    expect(await filesUnder(join(root, 'staging'))).toEqual([]);
  });

  it('reports the hash of the bytes on disk when copying a file that was changed behind its back', async () => {
    await store.put('edited-source', Buffer.from('original'));
    await writeFile(join(root, 'objects', 'edited-source'), 'changed by hand');
    const sha256 = createHash('sha256').update('changed by hand').digest('hex');
    expect(await store.copy?.('edited-source', 'copied')).toMatchObject({ size: 15, sha256 });
    expect(await store.head('copied')).toMatchObject({ size: 15, sha256 });
  });

  it('does not copy from behind a symlink, and does not copy into a symlinked directory', async () => {
    const outside = await mkdtemp(join(base, 'outside-'));
    await writeFile(join(outside, 'secret'), 'not for the store');
    await symlink(join(outside, 'secret'), join(root, 'objects', 'leak'));
    await symlink(outside, join(root, 'objects', 'link'));
    await store.put('real', Buffer.from('x'));
    await expect(store.copy?.('leak', 'stolen')).rejects.toMatchObject({ code: 'OBJECT_NOT_FOUND' });
    await expect(store.copy?.('real', 'link/planted')).rejects.toMatchObject({ code: 'INVALID_KEY' });
    expect(await readdir(outside)).toEqual(['secret']);
    expect(await filesUnder(join(root, 'staging'))).toEqual([]);
  });

  it('moves by renaming: the file keeps its inode, its sidecar follows it, and the emptied directories of the source go', async () => {
    await store.put('intake/upload-1/data.bin', Buffer.from('staged bytes'));
    const before = await stat(join(root, 'objects', 'intake', 'upload-1', 'data.bin'));
    const sha256 = createHash('sha256').update('staged bytes').digest('hex');
    expect(await store.move?.('intake/upload-1/data.bin', 'blobs/ab/data.bin')).toMatchObject({ size: 12, sha256 });
    expect((await stat(join(root, 'objects', 'blobs', 'ab', 'data.bin'))).ino).toBe(before.ino);
    expect(await readdir(join(root, 'objects'))).toEqual(['blobs']);
    expect(await filesUnder(join(root, 'meta'))).toHaveLength(1);
    expect(await filesUnder(join(root, 'staging'))).toEqual([]);
    expect(await store.head('blobs/ab/data.bin')).toMatchObject({ size: 12, sha256 });
  });

  it('reports the hash of the bytes on disk when moving a file that was changed behind its back', async () => {
    await store.put('edited-source', Buffer.from('original'));
    await writeFile(join(root, 'objects', 'edited-source'), 'changed by hand');
    const sha256 = createHash('sha256').update('changed by hand').digest('hex');
    expect(await store.move?.('edited-source', 'moved')).toMatchObject({ size: 15, sha256 });
    expect(await store.head('moved')).toMatchObject({ size: 15, sha256 });
  });

  it('does not move from behind a symlink, nor into a symlinked directory or where other keys continue, leaving the source', async () => {
    const outside = await mkdtemp(join(base, 'outside-'));
    await writeFile(join(outside, 'secret'), 'not for the store');
    await symlink(join(outside, 'secret'), join(root, 'objects', 'leak'));
    await symlink(outside, join(root, 'objects', 'link'));
    await store.put('real', Buffer.from('x'));
    await store.put('c/d', Buffer.from('y'));
    await expect(store.move?.('leak', 'stolen')).rejects.toMatchObject({ code: 'OBJECT_NOT_FOUND' });
    await expect(store.move?.('real', 'link/planted')).rejects.toMatchObject({ code: 'INVALID_KEY' });
    await expect(store.move?.('real', 'c')).rejects.toMatchObject({ code: 'INVALID_KEY', message: expect.stringContaining('objects exist under "c/"') });
    expect(await readdir(outside)).toEqual(['secret']);
    expect((await readAll(await store.get('real'))).toString()).toBe('x');
    expect(await filesUnder(join(root, 'staging'))).toEqual([]);
  });

  it('refuses an object under another object, and an object where other keys continue, naming the conflict', async () => {
    await store.put('a', Buffer.from('file'));
    await expect(store.put('a/b', Buffer.from('x'))).rejects.toMatchObject({ code: 'INVALID_KEY', message: expect.stringContaining('"a" is an object') });
    await store.put('c/d', Buffer.from('x'));
    await expect(store.put('c', Buffer.from('x'))).rejects.toMatchObject({ code: 'INVALID_KEY', message: expect.stringContaining('objects exist under "c/"') });
    expect(await filesUnder(join(root, 'staging'))).toEqual([]);
    expect((await readAll(await store.get('a'))).toString()).toBe('file');
  });
});

describe('storage-fs and symbolic links', () => {
  let outside: string;

  beforeEach(async () => {
    outside = await mkdtemp(join(base, 'outside-'));
    await writeFile(join(outside, 'secret'), 'not for the store');
    await symlink(outside, join(root, 'objects', 'link'));
    await symlink(join(outside, 'secret'), join(root, 'objects', 'leak'));
  });

  it('does not read through a symlink that points outside the root', async () => {
    await expect(store.get('link/secret')).rejects.toMatchObject({ code: 'OBJECT_NOT_FOUND' });
    await expect(store.get('leak')).rejects.toMatchObject({ code: 'OBJECT_NOT_FOUND' });
    expect(await store.head('link/secret')).toBeUndefined();
    expect(await store.head('leak')).toBeUndefined();
  });

  it('refuses to write through a symlinked directory and writes nothing outside', async () => {
    await expect(store.put('link/planted', Buffer.from('x'))).rejects.toMatchObject({ code: 'INVALID_KEY', message: expect.stringContaining('symbolic link') });
    await expect(store.put('link/new/dir/planted', Buffer.from('x'))).rejects.toMatchObject({ code: 'INVALID_KEY' });
    expect(await readdir(outside)).toEqual(['secret']);
  });

  it('neither lists nor deletes what lies behind a symlink', async () => {
    await store.put('real', Buffer.from('x'));
    expect((await store.list()).objects.map((o) => o.key)).toEqual(['real']);
    expect((await store.list({ prefix: 'link/' })).objects).toEqual([]);
    await store.delete('link/secret');
    await store.delete('leak');
    expect(await readFile(join(outside, 'secret'), 'utf8')).toBe('not for the store');
  });
});

describe('storage-fs after a crash', () => {
  const children: ChildProcess[] = [];

  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
  });

  /** A process that is writing 'crashed/object' into `at`, once its bytes are in the staging area. */
  async function startWriter(at: string): Promise<ChildProcess> {
    const child = spawn(process.execPath, [join(__dirname, '..', 'test', 'crash-writer.cjs'), at], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    const stdout = child.stdout as Readable;
    await new Promise<void>((resolve, reject) => {
      stdout.on('data', (data: Buffer) => data.toString().includes('writing') && resolve());
      child.on('exit', (code) => reject(new Error(`crash writer exited early with ${code}`)));
    });
    return child;
  }

  async function kill(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null) throw new Error(`crash writer exited by itself with ${child.exitCode}`);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  it('shows no object from a process killed mid-write, and create() removes its temp file', async () => {
    await kill(await startWriter(root));
    expect(await filesUnder(join(root, 'objects'))).toEqual([]);
    expect(await filesUnder(join(root, 'staging', 'tmp'))).toHaveLength(1);

    const reopened = await open(root);
    expect(await filesUnder(join(root, 'staging', 'tmp'))).toEqual([]);
    expect(await reopened.head('crashed/object')).toBeUndefined();
    expect(await reopened.list()).toEqual({ objects: [] });
  });

  it('keeps the temp file of a write still running in another process', async () => {
    const writer = await startWriter(root);
    await open(root);
    expect(await filesUnder(join(root, 'staging', 'tmp'))).toHaveLength(1);
    await kill(writer);
    await open(root);
    expect(await filesUnder(join(root, 'staging', 'tmp'))).toEqual([]);
  });
});

describe('storage-fs as a host creates it', () => {
  it('refuses a config without a root, naming the instance and the path', async () => {
    await expect(createPluginInstance(storageFs, { rot: '/tmp' }, createTestContext({ instanceName: 'profile-a' }))).rejects.toThrow(
      'storage instance "profile-a" (plugin storage-fs) has an invalid config: root: Invalid input: expected string, received undefined',
    );
  });
});

describe('storage-fs staging', () => {
  it('creates its directories in an empty root', async () => {
    const fresh = join(base, 'fresh', 'nested');
    await open(fresh);
    expect((await readdir(fresh)).sort()).toEqual(['meta', 'objects', 'staging']);
  });

  it('keeps an unrelated file in the root alone', async () => {
    await mkdir(join(root, 'notes'), { recursive: true });
    await writeFile(join(root, 'notes', 'readme.txt'), 'mine');
    await open(root);
    expect(await readFile(join(root, 'notes', 'readme.txt'), 'utf8')).toBe('mine');
  });
});

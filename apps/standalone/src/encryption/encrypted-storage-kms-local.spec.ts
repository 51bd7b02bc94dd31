import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { encryptingObjectStore, KEY_RECORDS_PREFIX } from '@trellis/platform';
import type { KeyManager } from '@trellis/plugin-sdk';
import { createTestContext, describeStorageConformance, MemoryObjectStore } from '@trellis/plugin-sdk/testing';
import kmsLocal, { masterKeyId } from '@trellis/plugin-kms-local';

// The kit's encrypting store with kms-local as its KMS. The store under it is the SDK's memory
// store, whose bytes at rest a spec can read directly.

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kms-local-storage-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function newKeyFile(): Promise<{ path: string; id: string }> {
  const key = randomBytes(32);
  const path = join(dir, `master-${key.subarray(0, 4).toString('hex')}.key`);
  await writeFile(path, key, { mode: 0o600 });
  return { path, id: masterKeyId(key) };
}

async function kms(config: { masterKeyFile: string; previousMasterKeyFiles?: string[] }): Promise<KeyManager> {
  return kmsLocal.create(createTestContext({ dataDir: dir, instanceName: 'local' }), kmsLocal.configSchema.parse(config));
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describeStorageConformance('encrypting every object with kms-local, over the memory store', async () =>
  encryptingObjectStore(new MemoryObjectStore(), await kms({ masterKeyFile: (await newKeyFile()).path }), { keyId: 'conformance', shouldEncrypt: () => true }),
);

describe('objects encrypted with kms-local', () => {
  const objects = {
    'projects/p1/empty': Buffer.alloc(0),
    'projects/p1/notes.txt': Buffer.from('confidential: the churn model uses the customer email domain\n'.repeat(100)),
    'projects/p1/model.bin': randomBytes(3 * 1024 * 1024 + 5),
  };
  let inner: MemoryObjectStore;
  let oldKey: { path: string; id: string };
  let newKey: { path: string; id: string };

  beforeEach(async () => {
    inner = new MemoryObjectStore();
    oldKey = await newKeyFile();
    newKey = await newKeyFile();
    const store = encryptingObjectStore(inner, await kms({ masterKeyFile: oldKey.path }), { keyId: 'project-p1', shouldEncrypt: (key) => key.startsWith('projects/p1/') });
    for (const [key, bytes] of Object.entries(objects)) await store.put(key, bytes);
    await store.put('projects/p2/clear.txt', Buffer.from('project p2 does not encrypt'));
  });

  it('are ciphertext at rest', () => {
    const atRest = inner.keys().map((key) => inner.inspect(key)?.bytes as Buffer);
    expect(inner.keys().filter((k) => k.startsWith(KEY_RECORDS_PREFIX))).toHaveLength(3);
    for (const bytes of atRest) expect(bytes.includes(Buffer.from('confidential'))).toBe(false);
    expect(inner.inspect('projects/p1/model.bin')?.bytes.includes(objects['projects/p1/model.bin'].subarray(1000, 1032))).toBe(false);
    expect(inner.inspect('projects/p2/clear.txt')?.bytes.toString()).toBe('project p2 does not encrypt');
  });

  it('stay readable through a rotation: rewrapping rewrites no body, and then the old master key is not needed', async () => {
    const bodies = new Map(Object.keys(objects).map((key) => [key, inner.inspect(key)]));
    const rotating = encryptingObjectStore(inner, await kms({ masterKeyFile: newKey.path, previousMasterKeyFiles: [oldKey.path] }), { keyId: 'project-p1', shouldEncrypt: () => true });
    expect((await readAll(await rotating.get('projects/p1/notes.txt'))).equals(objects['projects/p1/notes.txt'])).toBe(true);

    expect(await rotating.rewrapKeys({ prefix: 'projects/' })).toEqual({ rewrapped: 3, current: 0, unencrypted: 1, failed: [] });
    for (const [key, before] of bodies) {
      const after = inner.inspect(key);
      expect({ key, revision: after?.revision, same: after?.bytes.equals(before?.bytes as Buffer) }).toEqual({ key, revision: before?.revision, same: true });
    }

    const rotated = encryptingObjectStore(inner, await kms({ masterKeyFile: newKey.path }), { keyId: 'project-p1', shouldEncrypt: () => true });
    for (const [key, bytes] of Object.entries(objects)) expect((await readAll(await rotated.get(key))).equals(bytes)).toBe(true);
    const range = await rotated.get('projects/p1/model.bin', { range: { offset: 2 * 1024 * 1024, length: 70_000 } });
    expect((await readAll(range)).equals(objects['projects/p1/model.bin'].subarray(2 * 1024 * 1024, 2 * 1024 * 1024 + 70_000))).toBe(true);
  });

  it('fail to read with a clear error naming the master key when it is not configured', async () => {
    const withoutOldKey = encryptingObjectStore(inner, await kms({ masterKeyFile: newKey.path }), { keyId: 'project-p1', shouldEncrypt: () => true });
    await expect(withoutOldKey.get('projects/p1/notes.txt')).rejects.toMatchObject({
      name: 'KeyNotFoundError',
      code: 'KEY_NOT_FOUND',
      keyId: oldKey.id,
      message: `cannot decrypt object "projects/p1/notes.txt": the data key was wrapped by master key ${oldKey.id}, which kms-local instance "local" does not hold (it holds ${newKey.id} (current)); add that key to previousMasterKeyFiles or previousMasterKeyEnvs until every data key is rewrapped`,
    });
    expect((await readAll(await withoutOldKey.get('projects/p2/clear.txt'))).toString()).toBe('project p2 does not encrypt');
  });
});

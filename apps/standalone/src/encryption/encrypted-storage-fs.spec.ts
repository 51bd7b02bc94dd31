import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { encryptingObjectStore } from '@trellis/platform';
import type { ObjectStore } from '@trellis/plugin-sdk';
import { createTestContext, describeStorageConformance, MemoryKeyManager } from '@trellis/plugin-sdk/testing';
import storageFs from '@trellis/plugin-storage-fs';

// storage-fs under the kit's encrypting store: the contract holds, and the files on disk are what
// encryption at rest promises. (The SDK's test KMS stands in for a real one.)

let base: string;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'storage-fs-encrypted-'));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

async function fsStore(root: string): Promise<ObjectStore> {
  return storageFs.create(createTestContext({ dataDir: base }), { root });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describeStorageConformance('storage-fs, every object encrypted', async () =>
  encryptingObjectStore(await fsStore(await mkdtemp(join(base, 'root-'))), new MemoryKeyManager(), { keyId: 'conformance', shouldEncrypt: () => true }),
);

describe('storage-fs with objects encrypted at rest', () => {
  const plaintext = Buffer.concat([Buffer.from('a secret prefix that must not reach the disk\n'), randomBytes(2 * 1024 * 1024)]);
  let root: string;
  let kms: MemoryKeyManager;

  beforeEach(async () => {
    root = await mkdtemp(join(base, 'root-'));
    kms = new MemoryKeyManager();
    await encryptingObjectStore(await fsStore(root), kms, { keyId: 'k', shouldEncrypt: () => true }).put('models/m.bin', plaintext);
  });

  it('writes only ciphertext to the object file', async () => {
    const file = await readFile(join(root, 'objects', 'models', 'm.bin'));
    expect(file.length).toBeGreaterThan(plaintext.length);
    expect(file.includes(Buffer.from('a secret prefix'))).toBe(false);
    expect(file.includes(plaintext.subarray(100_000, 100_032))).toBe(false);
  });

  it('rewraps keys after a rotation without touching the object file', async () => {
    const path = join(root, 'objects', 'models', 'm.bin');
    const [bytesBefore, statBefore] = await Promise.all([readFile(path), stat(path, { bigint: true })]);
    kms.rotate();
    const store = encryptingObjectStore(await fsStore(root), kms, { keyId: 'k', shouldEncrypt: () => true });
    expect(await store.rewrapKeys()).toEqual({ rewrapped: 1, current: 0, unencrypted: 0, failed: [] });
    const statAfter = await stat(path, { bigint: true });
    expect([statAfter.ino, statAfter.mtimeNs, statAfter.size]).toEqual([statBefore.ino, statBefore.mtimeNs, statBefore.size]);
    expect((await readFile(path)).equals(bytesBefore)).toBe(true);
    kms.forget();
    expect((await readAll(await store.get('models/m.bin'))).equals(plaintext)).toBe(true);
  });

  it('fails reads of a file altered on disk with ObjectIntegrityError', async () => {
    const path = join(root, 'objects', 'models', 'm.bin');
    const file = await readFile(path);
    file[file.length - 100] ^= 1;
    await writeFile(path, file);
    const store = encryptingObjectStore(await fsStore(root), kms, { keyId: 'k', shouldEncrypt: () => true });
    await expect(store.get('models/m.bin').then(readAll)).rejects.toMatchObject({ code: 'OBJECT_INTEGRITY', key: 'models/m.bin' });
  });
});

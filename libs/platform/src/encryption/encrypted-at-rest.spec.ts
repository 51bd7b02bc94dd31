import type { KeyManager, ObjectStore } from '@trellis/plugin-sdk';
import { MemoryKeyManager, MemoryObjectStore } from '@trellis/plugin-sdk/testing';
import { encryptedAtRest, encryptedPerResource } from './encrypted-at-rest';

const PLAINTEXT = Buffer.from('weights of a model nobody may read on disk\n'.repeat(100));

async function read(store: ObjectStore, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.get(key)) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

/** The bytes `inner` holds at `key`. */
async function stored(inner: MemoryObjectStore, key: string): Promise<Buffer> {
  return read(inner, key);
}

describe('encryptedAtRest', () => {
  it('stores ciphertext and reads back the plaintext, with its size', async () => {
    const inner = new MemoryObjectStore();
    const store = encryptedAtRest(inner, new MemoryKeyManager());
    await store.put('7/run/artifacts/model.bin', PLAINTEXT);
    expect((await stored(inner, '7/run/artifacts/model.bin')).includes(PLAINTEXT.subarray(0, 40))).toBe(false);
    expect((await read(store, '7/run/artifacts/model.bin')).equals(PLAINTEXT)).toBe(true);
    expect(await store.head('7/run/artifacts/model.bin')).toMatchObject({ size: PLAINTEXT.length });
    expect((await store.list({ prefix: '7/' })).objects.map((object) => [object.key, object.size])).toEqual([['7/run/artifacts/model.bin', PLAINTEXT.length]]);
  });
});

describe('encryptedPerResource', () => {
  let inner: MemoryObjectStore;
  let kmsA: MemoryKeyManager;
  let kmsB: MemoryKeyManager;
  let store: ObjectStore;
  /** Which kms instance each resource (the first segment of a key) recorded; absent: the resource is gone. */
  let resources: Record<string, KeyManager | null>;

  beforeEach(() => {
    inner = new MemoryObjectStore();
    kmsA = new MemoryKeyManager();
    kmsB = new MemoryKeyManager();
    resources = { a: kmsA, b: kmsB, clear: null };
    store = encryptedPerResource(inner, async (key) => {
      const resource = key.split('/')[0];
      if (!Object.hasOwn(resources, resource)) throw new Error(`resource ${resource} is gone`);
      return resources[resource];
    });
  });

  it("encrypts each resource's objects through its own kms instance and leaves a clear resource's as written", async () => {
    for (const resource of ['a', 'b', 'clear']) await store.put(`${resource}/file`, PLAINTEXT);
    expect((await stored(inner, 'clear/file')).equals(PLAINTEXT)).toBe(true);
    for (const resource of ['a', 'b']) {
      expect((await stored(inner, `${resource}/file`)).includes(PLAINTEXT.subarray(0, 40))).toBe(false);
      expect((await read(store, `${resource}/file`)).equals(PLAINTEXT)).toBe(true);
    }
    // b's data key does not open under a's kms: each object needs the instance its resource recorded.
    resources.b = kmsA;
    await expect(read(store, 'b/file')).rejects.toMatchObject({ code: 'OBJECT_INTEGRITY' });
  });

  it('refuses to write for a resource that is gone, and still deletes its objects with their key records', async () => {
    await store.put('a/file', PLAINTEXT);
    delete resources.a;
    await expect(store.put('a/other', PLAINTEXT)).rejects.toThrow('resource a is gone');
    await store.delete('a/file');
    expect((await inner.list({})).objects).toEqual([]);
  });
});

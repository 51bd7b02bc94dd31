import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { KeyManager, ObjectBody, PutOptions, PutResult } from '@trellis/plugin-sdk';
import { MemoryKeyManager } from '@trellis/plugin-sdk/testing';
import { MemoryObjectStore } from '@trellis/plugin-sdk/testing';
import { type EncryptingObjectStore, encryptingObjectStore } from './encrypting-storage';
import { KEY_RECORDS_PREFIX } from './envelope/key-record';

const KiB = 1024;
const MiB = 1024 * KiB;
const CHUNK = 64 * KiB;

let inner: MemoryObjectStore;
let kms: MemoryKeyManager;
let encrypting: boolean;
let store: EncryptingObjectStore;

beforeEach(() => {
  inner = new MemoryObjectStore();
  kms = new MemoryKeyManager();
  encrypting = true;
  store = encryptingObjectStore(inner, kms, { keyId: 'project-1', shouldEncrypt: (key) => encrypting && !key.startsWith('public/') });
});

describe('bytes at rest', () => {
  it('are ciphertext that contains no run of the plaintext, in the body and in the key record', async () => {
    const plaintext = Buffer.from('model weights: 0.125 0.25 0.5 1.0 and a secret passphrase\n'.repeat(4000));
    await store.put('models/churn.onnx', plaintext);
    const stored = inner.keys().map((key) => (inner.inspect(key) as { bytes: Buffer }).bytes);
    expect(inner.keys()).toEqual([expect.stringMatching(/^\.trellis-keys\/[0-9a-f]{2}\/[0-9a-f]{32}$/), 'models/churn.onnx']);
    for (const bytes of stored) {
      for (let at = 0; at + 16 <= 200; at += 16) expect(bytes.includes(plaintext.subarray(at, at + 16))).toBe(false);
      expect(bytes.includes(Buffer.from('secret passphrase'))).toBe(false);
    }
    expect(body('models/churn.onnx').length).toBeGreaterThan(plaintext.length);
  });

  it('leave objects that should not be encrypted exactly as written', async () => {
    await store.put('public/readme.txt', Buffer.from('hello'));
    expect(body('public/readme.txt').toString()).toBe('hello');
    expect(inner.keys()).toEqual(['public/readme.txt']);
  });

  it('keep one key record per encrypted object, and none once objects are replaced or deleted', async () => {
    await store.put('a', Buffer.from('one'));
    await store.put('a', Buffer.from('two'));
    await store.put('b', Buffer.from('three'));
    expect(records()).toHaveLength(2);
    await store.delete('a');
    encrypting = false;
    await store.put('b', Buffer.from('now unencrypted'));
    expect(records()).toEqual([]);
    expect(body('b').toString()).toBe('now unencrypted');
  });
});

describe('reads', () => {
  it.each([
    ['empty', 0],
    ['one byte', 1],
    ['small', 1000],
    ['exactly one chunk', CHUNK],
    ['one chunk and a byte', CHUNK + 1],
    ['exactly two chunks', 2 * CHUNK],
    ['a few MiB', 3 * MiB + 17],
  ])('round-trip an object that is %s (%d bytes), with its size and SHA-256', async (_name, size) => {
    const plaintext = pattern(size, 3);
    const put = await store.put('secret/data.bin', Readable.from(split(plaintext, 10_000)));
    expect(put).toMatchObject({ size, sha256: sha256(plaintext) });
    expect(digest(await readAll(await store.get('secret/data.bin')))).toEqual(digest(plaintext));
    expect(await store.head('secret/data.bin')).toMatchObject({ size, sha256: sha256(plaintext), etag: put.etag });
    expect((await store.list({ prefix: 'secret/' })).objects).toEqual([{ key: 'secret/data.bin', size, lastModified: expect.any(Date) }]);
  });

  it('read objects stored before encryption was turned on, and encrypted ones after it is turned off', async () => {
    encrypting = false;
    await store.put('old', Buffer.from('written in the clear'));
    encrypting = true;
    await store.put('new', Buffer.from('written encrypted'));
    encrypting = false;
    expect((await readAll(await store.get('old'))).toString()).toBe('written in the clear');
    expect((await readAll(await store.get('new'))).toString()).toBe('written encrypted');
    expect(body('new').toString()).not.toContain('written encrypted');
  });

  it('serve ranges from the chunks that hold them, across chunk boundaries', async () => {
    const plaintext = pattern(3 * CHUNK + 500, 5);
    await store.put('ranged', plaintext);
    const cases: Array<[number, number | undefined]> = [[0, 1], [CHUNK - 10, 20], [CHUNK, CHUNK], [10, 3 * CHUNK], [3 * CHUNK + 499, undefined], [100, 10 * CHUNK], [0, undefined]];
    for (const [offset, length] of cases) {
      const expected = plaintext.subarray(offset, length === undefined ? undefined : offset + length);
      expect(digest(await readAll(await store.get('ranged', { range: { offset, length } })))).toEqual(digest(expected));
    }
    await expect(store.get('ranged', { range: { offset: plaintext.length } })).rejects.toMatchObject({ code: 'INVALID_RANGE', message: expect.stringContaining(`(${plaintext.length} bytes)`) });
  });

  it('pull the body only as the store writes it, so a 1 GiB object is never held whole', async () => {
    let produced = 0;
    const huge = Readable.from(
      (function* () {
        for (; produced < 1024 * MiB; produced += MiB) yield Buffer.alloc(MiB, 7);
      })(),
    );
    class StopsEarly extends MemoryObjectStore {
      override async put(key: string, sealed: ObjectBody, options?: PutOptions): Promise<PutResult> {
        if (sealed instanceof Uint8Array) return super.put(key, sealed, options); // a key record
        let seen = 0;
        for await (const piece of sealed) if ((seen += (piece as Buffer).length) > 4 * MiB) break;
        throw new Error(`stopped after ${seen} sealed bytes`);
      }
    }
    const slow = encryptingObjectStore(new StopsEarly(), kms, { keyId: 'k', shouldEncrypt: () => true });
    await expect(slow.put('huge', huge)).rejects.toThrow('stopped after');
    expect(produced).toBeLessThan(16 * MiB);
  });
});

describe('multipart uploads of encrypted objects', () => {
  const part1 = pattern(5 * MiB + 3, 11);
  const part2 = pattern(CHUNK + 9, 12);

  it('store each part sealed and read back whole and in ranges across parts', async () => {
    const upload = await store.createMultipartUpload('secret/multi');
    const r2 = await store.uploadPart(upload, 2, part2);
    const r1 = await store.uploadPart(upload, 1, Readable.from(split(part1, 300_000)));
    const info = await store.completeMultipartUpload(upload, [r1, r2]);
    const whole = Buffer.concat([part1, part2]);
    expect(info).toMatchObject({ key: 'secret/multi', size: whole.length });
    expect(digest(await readAll(await store.get('secret/multi')))).toEqual(digest(whole));
    expect((await store.head('secret/multi'))?.size).toBe(whole.length);
    expect((await store.list()).objects.map((o) => o.size)).toEqual([whole.length]);
    const across = { offset: part1.length - 70_000, length: 100_000 };
    expect(digest(await readAll(await store.get('secret/multi', { range: across })))).toEqual(digest(whole.subarray(across.offset, across.offset + across.length)));
    expect(body('secret/multi').includes(part2.subarray(0, 32))).toBe(false);
  });

  it('drop the key record of an aborted upload', async () => {
    const upload = await store.createMultipartUpload('secret/aborted');
    await store.uploadPart(upload, 1, part2);
    expect(records()).toHaveLength(1);
    await store.abortMultipartUpload(upload);
    expect(records()).toEqual([]);
  });

  it('pass uploads of objects that should not be encrypted through', async () => {
    const upload = await store.createMultipartUpload('public/multi');
    const r1 = await store.uploadPart(upload, 1, part2);
    await store.completeMultipartUpload(upload, [r1]);
    expect(digest(body('public/multi'))).toEqual(digest(part2));
  });
});

describe('key records', () => {
  it('are refused as keys and never listed', async () => {
    await store.put('x', Buffer.from('x'));
    expect(records()).toHaveLength(1);
    await expect(store.get(records()[0])).rejects.toMatchObject({ code: 'INVALID_KEY', message: expect.stringContaining('reserved') });
    await expect(store.put('.trellis-keys', Buffer.from('x'))).rejects.toMatchObject({ code: 'INVALID_KEY' });
    expect((await store.list()).objects.map((o) => o.key)).toEqual(['x']);
    expect((await store.list({ limit: 1 })).nextCursor).toBeUndefined();
  });

  it('never shorten a listing page while objects remain after them', async () => {
    for (const key of ['-a', '-b', '.a', '.u', '.v', 'a', 'b']) await store.put(key, Buffer.from(key));
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await store.list({ limit: 2, cursor });
      pages.push(page.objects.map((o) => o.key));
      cursor = page.nextCursor;
    } while (cursor && pages.length < 10);
    expect(pages).toEqual([['-a', '-b'], ['.a', '.u'], ['.v', 'a'], ['b']]);
  });
});

describe('rotating the KMS key and rewrapping', () => {
  beforeEach(async () => {
    await store.put('secret/a', pattern(3 * CHUNK, 1));
    await store.put('secret/b', Buffer.alloc(0));
    const upload = await store.createMultipartUpload('secret/c');
    await store.completeMultipartUpload(upload, [await store.uploadPart(upload, 1, pattern(100, 2))]);
    await store.put('public/d', Buffer.from('clear'));
  });

  it('rewraps every data key without rewriting a body, after which the old version is not needed', async () => {
    const bodies = ['secret/a', 'secret/b', 'secret/c', 'public/d'].map((key) => [key, inner.inspect(key)] as const);
    kms.rotate();
    expect(await store.rewrapKeys()).toEqual({ rewrapped: 3, current: 0, unencrypted: 1, failed: [] });
    for (const [key, before] of bodies) {
      const now = inner.inspect(key);
      expect(now?.revision).toBe(before?.revision);
      expect(now?.bytes.equals(before?.bytes as Buffer)).toBe(true);
    }
    kms.forget();
    expect(digest(await readAll(await store.get('secret/a')))).toEqual(digest(pattern(3 * CHUNK, 1)));
    expect(await readAll(await store.get('secret/c'))).toEqual(pattern(100, 2));
    expect(await readAll(await store.get('secret/a', { range: { offset: CHUNK, length: 5 } }))).toEqual(pattern(3 * CHUNK, 1).subarray(CHUNK, CHUNK + 5));
  });

  it('leaves records alone that already are under the current version', async () => {
    kms.rotate();
    expect(await store.rewrapKeys({ prefix: 'secret/a' })).toEqual({ rewrapped: 1, current: 0, unencrypted: 0, failed: [] });
    const revisions = () => new Map(records().map((key) => [key, inner.inspect(key)?.revision]));
    const before = revisions();
    expect(await store.rewrapKeys()).toEqual({ rewrapped: 2, current: 1, unencrypted: 1, failed: [] });
    const after = revisions();
    expect([...after].filter(([key, revision]) => before.get(key) === revision)).toHaveLength(1);
    expect(await store.rewrapKeys()).toEqual({ rewrapped: 0, current: 3, unencrypted: 1, failed: [] });
    expect(revisions()).toEqual(after);
  });

  it('unwraps and wraps again where the KMS has no rewrapKey', async () => {
    const withoutRewrap = encryptingObjectStore(
      inner,
      {
        generateDataKey: (keyId, context) => kms.generateDataKey(keyId, context),
        wrapKey: (keyId, plaintext, context) => kms.wrapKey(keyId, plaintext, context),
        unwrapKey: (keyId, wrapped, context) => kms.unwrapKey(keyId, wrapped, context),
      } satisfies KeyManager,
      { keyId: 'project-1', shouldEncrypt: () => true },
    );
    kms.rotate();
    expect(await withoutRewrap.rewrapKeys()).toMatchObject({ rewrapped: 3, failed: [] });
    kms.forget();
    expect(digest(await readAll(await store.get('secret/a')))).toEqual(digest(pattern(3 * CHUNK, 1)));
  });

  it('fails reads clearly, naming the object, when the version that wrapped a key is gone', async () => {
    kms.rotate();
    kms.forget();
    await expect(store.get('secret/a')).rejects.toMatchObject({
      code: 'KEY_NOT_FOUND',
      message: expect.stringMatching(/^cannot decrypt object "secret\/a": version 1 of key project-1 is not held/),
    });
    const report = await store.rewrapKeys();
    expect(report.failed.map((f) => f.key)).toEqual(['secret/a', 'secret/b', 'secret/c']);
    expect(report.failed[0].error).toContain('version 1 of key project-1 is not held');
  });
});

function body(key: string): Buffer {
  const stored = inner.inspect(key);
  if (!stored) throw new Error(`nothing stored at ${key}`);
  return stored.bytes;
}

function records(): string[] {
  return inner.keys().filter((key) => key.startsWith(KEY_RECORDS_PREFIX));
}

function pattern(size: number, seed: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed * 17 + (i >> 8)) & 0xff;
  return bytes;
}

function split(bytes: Buffer, size: number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) pieces.push(bytes.subarray(at, at + size));
  return pieces;
}

/** Size and SHA-256: compares large buffers quickly, with a readable difference. */
function digest(bytes: Uint8Array): { size: number; sha256: string } {
  return { size: bytes.length, sha256: sha256(bytes) };
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

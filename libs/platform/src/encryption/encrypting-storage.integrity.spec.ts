import type { Readable } from 'node:stream';
import { MemoryKeyManager } from '@trellis/plugin-sdk/testing';
import { MemoryObjectStore } from '@trellis/plugin-sdk/testing';
import { type EncryptingObjectStore, encryptingObjectStore } from './encrypting-storage';
import { KEY_RECORDS_PREFIX } from './envelope/key-record';

const HEADER = 45;
const CHUNK = 64 * 1024;
const SEALED = CHUNK + 16;
const MiB = 1024 * 1024;

let inner: MemoryObjectStore;
let store: EncryptingObjectStore;

beforeEach(() => {
  inner = new MemoryObjectStore();
  store = encryptingObjectStore(inner, new MemoryKeyManager(), { keyId: 'project-1', shouldEncrypt: () => true });
});

describe('an altered object fails to read with ObjectIntegrityError', () => {
  it('for one altered byte anywhere in a one-chunk object, passing no plaintext on', async () => {
    await store.put('secret/small', pattern(100, 1));
    const original = body('secret/small');
    expect(original.length).toBe(HEADER + 100 + 16);
    for (let at = 0; at < original.length; at++) {
      inner.replaceBytes('secret/small', flipped(original, at));
      const { bytes, error } = await outcome(() => store.get('secret/small'));
      expect({ at, error }).toEqual({ at, error: expect.objectContaining({ name: 'ObjectIntegrityError', code: 'OBJECT_INTEGRITY', key: 'secret/small' }) });
      expect(bytes.length).toBe(0);
    }
    expect((error(await outcome(() => store.get('secret/small'))) as Error).message).toMatch(/^object "secret\/small" failed its integrity check: it was altered or truncated \(.+\)$/);
  });

  it('for one altered byte in any chunk of a larger object, ending the stream with the error after the chunks before it', async () => {
    const plaintext = pattern(3 * CHUNK + 1000, 2);
    await store.put('secret/large', plaintext);
    const original = body('secret/large');
    const positions = [0, 7, 8, 20, HEADER - 1, HEADER, HEADER + CHUNK + 3, HEADER + SEALED - 1, HEADER + SEALED, HEADER + 2 * SEALED + 500, HEADER + 3 * SEALED, original.length - 1];
    for (const at of positions) {
      inner.replaceBytes('secret/large', flipped(original, at));
      const { bytes, error } = await outcome(() => store.get('secret/large'));
      const alteredChunk = Math.max(0, Math.floor((at - HEADER) / SEALED));
      expect({ at, code: (error as { code?: string })?.code }).toEqual({ at, code: 'OBJECT_INTEGRITY' });
      expect(bytes.length).toBeLessThanOrEqual(alteredChunk * CHUNK);
      expect(bytes.equals(plaintext.subarray(0, bytes.length))).toBe(true);
    }
  });

  it('when it is cut short anywhere, also exactly at a chunk boundary', async () => {
    await store.put('secret/cut', pattern(3 * CHUNK, 3));
    const original = body('secret/cut');
    for (const length of [4, 7, 8, 20, HEADER - 1, HEADER, HEADER + 16, HEADER + SEALED, HEADER + 2 * SEALED, original.length - 1]) {
      inner.replaceBytes('secret/cut', original.subarray(0, length));
      expect({ length, code: code(await outcome(() => store.get('secret/cut'))) }).toEqual({ length, code: 'OBJECT_INTEGRITY' });
    }
  });

  it('when two chunks are swapped, a chunk is dropped, or bytes are appended', async () => {
    await store.put('secret/chunks', pattern(3 * CHUNK, 4));
    const original = body('secret/chunks');
    const chunk = (i: number) => original.subarray(HEADER + i * SEALED, HEADER + (i + 1) * SEALED);
    const header = original.subarray(0, HEADER);
    const variants = {
      swapped: Buffer.concat([header, chunk(1), chunk(0), chunk(2)]),
      'last two swapped': Buffer.concat([header, chunk(0), chunk(2), chunk(1)]),
      'middle dropped': Buffer.concat([header, chunk(0), chunk(2)]),
      'last dropped': Buffer.concat([header, chunk(0), chunk(1)]),
      'a chunk repeated': Buffer.concat([header, chunk(0), chunk(1), chunk(2), chunk(2)]),
      appended: Buffer.concat([original, Buffer.from([0])]),
    };
    for (const [name, bytes] of Object.entries(variants)) {
      inner.replaceBytes('secret/chunks', bytes);
      expect({ name, code: code(await outcome(() => store.get('secret/chunks'))) }).toEqual({ name, code: 'OBJECT_INTEGRITY' });
    }
  });

  it('when a range it reads is altered, while ranges of intact chunks still read', async () => {
    const plaintext = pattern(3 * CHUNK, 5);
    await store.put('secret/ranged', plaintext);
    inner.replaceBytes('secret/ranged', flipped(body('secret/ranged'), HEADER + 2 * SEALED + 10));
    expect(await readAll(await store.get('secret/ranged', { range: { offset: 10, length: 100 } }))).toEqual(plaintext.subarray(10, 110));
    expect(code(await outcome(() => store.get('secret/ranged', { range: { offset: CHUNK, length: CHUNK + 1 } })))).toBe('OBJECT_INTEGRITY');
  });

  it('when an object is moved to another key, with or without its key record edited to match', async () => {
    await store.put('secret/a', Buffer.from('belongs to a'));
    await inner.put('secret/b', body('secret/a'));
    expect(error(await outcome(() => store.get('secret/b')))).toMatchObject({ code: 'OBJECT_INTEGRITY', detail: 'its key record is that of object "secret/a"' });
    const [record] = inner.keys().filter((k) => k.startsWith(KEY_RECORDS_PREFIX));
    await inner.put(record, Buffer.from(body(record).toString().replace('"secret/a"', '"secret/b"')));
    expect(error(await outcome(() => store.get('secret/b')))).toMatchObject({ code: 'OBJECT_INTEGRITY', detail: expect.stringMatching(/^its data key does not unwrap/) });
  });

  it('when its key record is altered or missing', async () => {
    await store.put('secret/keyed', Buffer.from('x'.repeat(100)));
    const [record] = inner.keys().filter((k) => k.startsWith(KEY_RECORDS_PREFIX));
    const json = JSON.parse(body(record).toString()) as { wrappedKey: string };
    const wrapped = Buffer.from(json.wrappedKey, 'base64');
    wrapped[20] ^= 1;
    await inner.put(record, Buffer.from(JSON.stringify({ ...json, wrappedKey: wrapped.toString('base64') })));
    expect(error(await outcome(() => store.get('secret/keyed')))).toMatchObject({ code: 'OBJECT_INTEGRITY', detail: expect.stringMatching(/^its data key does not unwrap/) });
    await inner.delete(record);
    expect(error(await outcome(() => store.get('secret/keyed')))).toMatchObject({ code: 'OBJECT_INTEGRITY', detail: `its key record ${record} is missing` });
  });

  describe('of several parts', () => {
    const parts = [pattern(5 * MiB, 6), pattern(5 * MiB, 7), pattern(1000, 8)];
    let segments: Buffer[];
    let record: string;

    beforeEach(async () => {
      const upload = await store.createMultipartUpload('secret/parts');
      const uploaded = [];
      for (const [i, part] of parts.entries()) uploaded.push(await store.uploadPart(upload, i + 1, part));
      await store.completeMultipartUpload(upload, uploaded);
      const stored = body('secret/parts');
      const size = (plain: number) => HEADER + plain + 16 * Math.max(1, Math.ceil(plain / CHUNK));
      segments = [stored.subarray(0, size(5 * MiB)), stored.subarray(size(5 * MiB), 2 * size(5 * MiB)), stored.subarray(2 * size(5 * MiB))];
      [record] = inner.keys().filter((k) => k.startsWith(KEY_RECORDS_PREFIX));
    });

    it('reads whole when untouched', async () => {
      expect((await readAll(await store.get('secret/parts'))).equals(Buffer.concat(parts))).toBe(true);
    });

    it('fails when two parts are swapped or one is dropped', async () => {
      for (const [name, bytes] of Object.entries({
        swapped: Buffer.concat([segments[1], segments[0], segments[2]]),
        'last dropped': Buffer.concat([segments[0], segments[1]]),
        'middle dropped': Buffer.concat([segments[0], segments[2]]),
      })) {
        inner.replaceBytes('secret/parts', bytes);
        expect({ name, code: code(await outcome(() => store.get('secret/parts'))) }).toEqual({ name, code: 'OBJECT_INTEGRITY' });
      }
    });

    it('fails when the list of parts in its key record is edited', async () => {
      const json = JSON.parse(body(record).toString()) as { parts: number[][] };
      await inner.put(record, Buffer.from(JSON.stringify({ ...json, parts: json.parts.slice(0, 2) })));
      expect(error(await outcome(() => store.get('secret/parts')))).toMatchObject({ code: 'OBJECT_INTEGRITY', detail: 'the list of parts in its key record does not verify' });
    });
  });
});

function body(key: string): Buffer {
  const stored = inner.inspect(key);
  if (!stored) throw new Error(`nothing stored at ${key}`);
  return stored.bytes;
}

function flipped(bytes: Buffer, at: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[at] ^= 0x80;
  return copy;
}

/** What a reader gets: the bytes that flowed, and the error of `get` or of the stream, if any. */
async function outcome(read: () => Promise<Readable>): Promise<{ bytes: Buffer; error?: unknown }> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of await read()) chunks.push(chunk as Buffer);
  } catch (err) {
    return { bytes: Buffer.concat(chunks), error: err };
  }
  return { bytes: Buffer.concat(chunks) };
}

function error(result: { error?: unknown }): unknown {
  return result.error;
}

function code(result: { error?: unknown }): string | undefined {
  return (result.error as { code?: string } | undefined)?.code;
}

function pattern(size: number, seed: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed * 17 + (i >> 8)) & 0xff;
  return bytes;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

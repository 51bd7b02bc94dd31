import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { MULTIPART_LIMITS, type ObjectStore } from '../contracts';
import { compareKeys } from '../storage/object-key';

/** Makes a fresh, empty store for one test; called before every test of the suite. */
export type StorageFactory = () => Promise<ObjectStore> | ObjectStore;

/** Keys every storage plugin must refuse with `InvalidKeyError`, with why. */
export const ESCAPING_KEYS: ReadonlyArray<readonly [key: string, why: string]> = [
  ['', 'empty'],
  ['../outside', 'a leading .. segment'],
  ['a/../../outside', 'a .. segment in the middle'],
  ['a/..', 'a trailing .. segment'],
  ['./a', 'a . segment'],
  ['/etc/passwd', 'an absolute path'],
  ['C:/Windows/win.ini', 'a drive letter'],
  ['a\0b', 'a NUL byte'],
  ['a\\b', 'a backslash'],
  ['..\\outside', 'a backslash path up'],
  ['a//b', 'an empty segment'],
  ['a/', 'a trailing slash'],
];

const MiB = 1024 * 1024;

/**
 * The storage contract's conformance suite (v1). A storage plugin's spec calls it with a factory of
 * fresh, empty stores; it uses jest's globals. It writes up to about 16 MiB per test, because a
 * multipart upload's parts (all but the last) are at least 5 MiB on every backend.
 *
 * @example
 * describeStorageConformance('storage-fs', async () =>
 *   plugin.create(createTestContext(), { root: await mkdtemp(join(tmpdir(), 'storage-fs-')) }),
 * );
 */
export function describeStorageConformance(name: string, factory: StorageFactory): void {
  describe(`storage conformance (v1): ${name}`, () => {
    let store: ObjectStore;

    beforeEach(async () => {
      store = await factory();
    });

    afterEach(async () => {
      await store.close?.();
    });

    describe('put, get and head', () => {
      it('round-trips bytes and reports their size and SHA-256', async () => {
        const bytes = pattern(1000, 7);
        const result = await store.put('bytes.bin', bytes);
        expect(result).toMatchObject({ key: 'bytes.bin', size: 1000, sha256: sha256(bytes) });
        expect(result.etag).toEqual(expect.any(String));
        expect(await readAll(await store.get('bytes.bin'))).toEqual(bytes);
      });

      it('round-trips a stream of many chunks without changing a byte', async () => {
        const chunks = Array.from({ length: 40 }, (_, i) => pattern(64 * 1024 + i, i));
        const whole = Buffer.concat(chunks);
        const result = await store.put('streamed/data.bin', Readable.from(chunks));
        expect(result).toMatchObject({ size: whole.length, sha256: sha256(whole) });
        expect(sha256(await readAll(await store.get('streamed/data.bin')))).toBe(sha256(whole));
      });

      it('stores an empty object', async () => {
        const result = await store.put('empty', new Uint8Array(0));
        expect(result).toMatchObject({ size: 0, sha256: sha256(new Uint8Array(0)) });
        expect(await readAll(await store.get('empty'))).toEqual(Buffer.alloc(0));
        expect((await store.head('empty'))?.size).toBe(0);
      });

      it('heads an object with the size, etag and SHA-256 of its put', async () => {
        const before = Date.now();
        const put = await store.put('head/me.txt', Buffer.from('hello head'));
        const info = await store.head('head/me.txt');
        expect(info).toMatchObject({ key: 'head/me.txt', size: 10, etag: put.etag });
        if (info?.sha256 !== undefined) expect(info.sha256).toBe(put.sha256);
        expect(info?.lastModified).toBeInstanceOf(Date);
        const written = info?.lastModified.getTime() ?? Number.NaN;
        expect(written).toBeGreaterThanOrEqual(before - 2000);
        expect(written).toBeLessThanOrEqual(Date.now() + 2000);
      });

      it('heads a missing object as undefined', async () => {
        expect(await store.head('missing/object')).toBeUndefined();
      });

      it('throws ObjectNotFoundError, naming the key, for get of a missing object', async () => {
        await expect(store.get('missing/object')).rejects.toMatchObject({
          name: 'ObjectNotFoundError',
          code: 'OBJECT_NOT_FOUND',
          key: 'missing/object',
        });
      });

      it('replaces the content on overwrite, with a new etag', async () => {
        const first = await store.put('over/write', Buffer.from('first version, longer'));
        const second = await store.put('over/write', Buffer.from('second'));
        expect(second.etag).not.toBe(first.etag);
        expect((await readAll(await store.get('over/write'))).toString()).toBe('second');
        expect(await store.head('over/write')).toMatchObject({ size: 6, etag: second.etag });
      });

      it('keeps streaming the version that was current when get resolved', async () => {
        await store.put('versioned', pattern(2 * MiB, 1));
        const reading = await store.get('versioned');
        await store.put('versioned', pattern(MiB, 2));
        expect(sha256(await readAll(reading))).toBe(sha256(pattern(2 * MiB, 1)));
      });

      it('stores keys with unicode and deeply nested segments', async () => {
        const keys = ['données/模型/ü.bin', 'a/b/c/d/e/f/g/h.txt', 'emoji/😀 space.txt'];
        for (const key of keys) await store.put(key, Buffer.from(key));
        for (const key of keys) {
          expect((await readAll(await store.get(key))).toString()).toBe(key);
          expect((await store.head(key))?.key).toBe(key);
        }
        expect((await store.list()).objects.map((o) => o.key)).toEqual([...keys].sort(compareKeys));
      });
    });

    describe('failed writes', () => {
      it('leaves no object when the body stream fails midway', async () => {
        const failing = stalled();
        const putting = store.put('broken/new', failing);
        failing.push(pattern(MiB, 3));
        setImmediate(() => failing.destroy(new Error('client went away')));
        await expect(putting).rejects.toThrow('client went away');
        expect(await store.head('broken/new')).toBeUndefined();
        await expect(store.get('broken/new')).rejects.toMatchObject({ code: 'OBJECT_NOT_FOUND' });
      });

      it('keeps the previous version whole when an overwrite fails midway', async () => {
        await store.put('broken/old', Buffer.from('the good version'));
        const failing = stalled();
        const putting = store.put('broken/old', failing);
        failing.push(pattern(MiB, 4));
        setImmediate(() => failing.destroy(new Error('disconnected')));
        await expect(putting).rejects.toThrow('disconnected');
        expect((await readAll(await store.get('broken/old'))).toString()).toBe('the good version');
      });

      it('abandons a write when its signal aborts', async () => {
        const endless = stalled();
        endless.push(pattern(MiB, 5));
        const controller = new AbortController();
        const putting = store.put('aborted', endless, { signal: controller.signal });
        setImmediate(() => controller.abort());
        await expect(putting).rejects.toThrow();
        endless.destroy();
        expect(await store.head('aborted')).toBeUndefined();
      });
    });

    describe('copy (where the store has it)', () => {
      // A store without copy passes these as they are: callers fall back to get and put.
      const copyOf = (s: ObjectStore) => s.copy?.bind(s);

      it('copies the bytes to the new key and reports them as put does, leaving the source as it was', async () => {
        const copy = copyOf(store);
        if (!copy) return;
        const bytes = pattern(300 * 1024, 21);
        const source = await store.put('copy/from.bin', bytes);
        const result = await copy('copy/from.bin', 'copy/sub/to.bin');
        expect(result).toMatchObject({ key: 'copy/sub/to.bin', size: bytes.length, sha256: sha256(bytes) });
        expect(result.etag).toEqual(expect.any(String));
        expect(await readAll(await store.get('copy/sub/to.bin'))).toEqual(bytes);
        expect(await store.head('copy/sub/to.bin')).toMatchObject({ size: bytes.length, etag: result.etag });
        expect(await store.head('copy/from.bin')).toMatchObject({ size: bytes.length, etag: source.etag });
        expect((await store.list({ prefix: 'copy/' })).objects.map((o) => o.key)).toEqual(['copy/from.bin', 'copy/sub/to.bin']);
      });

      it('replaces an object at the destination', async () => {
        const copy = copyOf(store);
        if (!copy) return;
        await store.put('copy/src', Buffer.from('the new content'));
        const old = await store.put('copy/dst', Buffer.from('old content, longer than the new one'));
        const result = await copy('copy/src', 'copy/dst');
        expect(result.etag).not.toBe(old.etag);
        expect((await readAll(await store.get('copy/dst'))).toString()).toBe('the new content');
        expect((await store.head('copy/dst'))?.size).toBe(15);
      });

      it('makes an independent copy: writing or deleting the source later leaves it alone', async () => {
        const copy = copyOf(store);
        if (!copy) return;
        await store.put('copy/original', Buffer.from('version 1'));
        await copy('copy/original', 'copy/kept');
        await store.put('copy/original', Buffer.from('version 2'));
        expect((await readAll(await store.get('copy/kept'))).toString()).toBe('version 1');
        await store.delete('copy/original');
        expect((await readAll(await store.get('copy/kept'))).toString()).toBe('version 1');
        const info = await store.head('copy/kept');
        if (info?.sha256 !== undefined) expect(info.sha256).toBe(sha256(Buffer.from('version 1')));
      });

      it('copies an empty object, and an object onto itself unchanged', async () => {
        const copy = copyOf(store);
        if (!copy) return;
        await store.put('copy/empty', new Uint8Array(0));
        expect(await copy('copy/empty', 'copy/empty-too')).toMatchObject({ size: 0, sha256: sha256(new Uint8Array(0)) });
        await store.put('copy/self', Buffer.from('same'));
        expect(await copy('copy/self', 'copy/self')).toMatchObject({ key: 'copy/self', size: 4, sha256: sha256(Buffer.from('same')) });
        expect((await readAll(await store.get('copy/self'))).toString()).toBe('same');
      });

      it('throws ObjectNotFoundError naming the source when it is missing, leaving the destination as it was', async () => {
        const copy = copyOf(store);
        if (!copy) return;
        await store.put('copy/existing', Buffer.from('stays'));
        await expect(copy('copy/missing', 'copy/existing')).rejects.toMatchObject({ name: 'ObjectNotFoundError', code: 'OBJECT_NOT_FOUND', key: 'copy/missing' });
        await expect(copy('copy/missing', 'copy/new')).rejects.toMatchObject({ code: 'OBJECT_NOT_FOUND' });
        expect((await readAll(await store.get('copy/existing'))).toString()).toBe('stays');
        expect(await store.head('copy/new')).toBeUndefined();
      });

      it.each(ESCAPING_KEYS)('refuses %j (%s) as either key with InvalidKeyError, storing nothing', async (key) => {
        const copy = copyOf(store);
        if (!copy) return;
        await store.put('copy/valid', Buffer.from('x'));
        await expect(copy(key, 'copy/elsewhere')).rejects.toMatchObject({ code: 'INVALID_KEY' });
        await expect(copy('copy/valid', key)).rejects.toMatchObject({ code: 'INVALID_KEY' });
        expect((await store.list()).objects.map((o) => o.key)).toEqual(['copy/valid']);
      });

      it('abandons a copy whose signal has already aborted, leaving the destination as it was', async () => {
        const copy = copyOf(store);
        if (!copy) return;
        await store.put('copy/a', Buffer.from('a'));
        await store.put('copy/b', Buffer.from('b'));
        const controller = new AbortController();
        controller.abort(new Error('caller gone'));
        await expect(copy('copy/a', 'copy/b', { signal: controller.signal })).rejects.toThrow();
        expect((await readAll(await store.get('copy/b'))).toString()).toBe('b');
      });

      it('leaves readers of the destination only whole versions while copies race with writes', async () => {
        const copy = copyOf(store);
        if (!copy) return;
        const size = MiB;
        for (let fill = 1; fill <= 4; fill++) await store.put(`copy/race-${fill}`, Buffer.alloc(size, fill));
        const writers = [1, 2, 3, 4].map((fill) => (fill % 2 ? copy(`copy/race-${fill}`, 'copy/raced') : store.put('copy/raced', slowStream(size, fill))));
        const seen: string[] = [];
        const reader = (async () => {
          for (let i = 0; i < 10; i++) {
            await new Promise((r) => setImmediate(r));
            try {
              seen.push(wholeVersionOf(await readAll(await store.get('copy/raced')), size));
            } catch (err) {
              if ((err as { code?: string }).code !== 'OBJECT_NOT_FOUND') throw err;
            }
          }
        })();
        await Promise.all([...writers, reader]);
        expect(seen.filter((v) => !v.startsWith('whole'))).toEqual([]);
        expect(wholeVersionOf(await readAll(await store.get('copy/raced')), size)).toMatch(/^whole [1-4]$/);
      });
    });

    describe('move (where the store has it)', () => {
      // A store without move passes these as they are: callers copy, then delete.
      const moveOf = (s: ObjectStore) => s.move?.bind(s);

      it('moves the bytes to the new key and reports them as put does; the source is gone', async () => {
        const move = moveOf(store);
        if (!move) return;
        const bytes = pattern(300 * 1024, 31);
        await store.put('move/deep/from.bin', bytes);
        const result = await move('move/deep/from.bin', 'move/sub/to.bin');
        expect(result).toMatchObject({ key: 'move/sub/to.bin', size: bytes.length, sha256: sha256(bytes) });
        expect(result.etag).toEqual(expect.any(String));
        expect(await readAll(await store.get('move/sub/to.bin'))).toEqual(bytes);
        const info = await store.head('move/sub/to.bin');
        expect(info).toMatchObject({ size: bytes.length, etag: result.etag });
        if (info?.sha256 !== undefined) expect(info.sha256).toBe(sha256(bytes));
        expect(await store.head('move/deep/from.bin')).toBeUndefined();
        await expect(store.get('move/deep/from.bin')).rejects.toMatchObject({ code: 'OBJECT_NOT_FOUND' });
        expect((await store.list({ prefix: 'move/' })).objects.map((o) => o.key)).toEqual(['move/sub/to.bin']);
      });

      it('replaces an object at the destination', async () => {
        const move = moveOf(store);
        if (!move) return;
        await store.put('move/src', Buffer.from('the new content'));
        const old = await store.put('move/dst', Buffer.from('old content, longer than the new one'));
        const result = await move('move/src', 'move/dst');
        expect(result.etag).not.toBe(old.etag);
        expect((await readAll(await store.get('move/dst'))).toString()).toBe('the new content');
        expect(await store.head('move/dst')).toMatchObject({ size: 15, etag: result.etag });
        expect(await store.head('move/src')).toBeUndefined();
      });

      it('leaves the moved object alone when the source key is written again', async () => {
        const move = moveOf(store);
        if (!move) return;
        await store.put('move/reused', Buffer.from('version 1'));
        await move('move/reused', 'move/kept');
        await store.put('move/reused', Buffer.from('version 2'));
        expect((await readAll(await store.get('move/kept'))).toString()).toBe('version 1');
        await store.delete('move/reused');
        expect((await readAll(await store.get('move/kept'))).toString()).toBe('version 1');
      });

      it('moves an empty object, and leaves an object moved onto its own key as it is', async () => {
        const move = moveOf(store);
        if (!move) return;
        await store.put('move/empty', new Uint8Array(0));
        expect(await move('move/empty', 'move/empty-too')).toMatchObject({ size: 0, sha256: sha256(new Uint8Array(0)) });
        expect((await store.head('move/empty-too'))?.size).toBe(0);
        expect(await store.head('move/empty')).toBeUndefined();
        await store.put('move/self', Buffer.from('same'));
        expect(await move('move/self', 'move/self')).toMatchObject({ key: 'move/self', size: 4, sha256: sha256(Buffer.from('same')) });
        expect((await readAll(await store.get('move/self'))).toString()).toBe('same');
      });

      it('throws ObjectNotFoundError naming the source when it is missing, leaving the destination as it was', async () => {
        const move = moveOf(store);
        if (!move) return;
        await store.put('move/existing', Buffer.from('stays'));
        await expect(move('move/missing', 'move/existing')).rejects.toMatchObject({ name: 'ObjectNotFoundError', code: 'OBJECT_NOT_FOUND', key: 'move/missing' });
        await expect(move('move/missing', 'move/new')).rejects.toMatchObject({ code: 'OBJECT_NOT_FOUND' });
        expect((await readAll(await store.get('move/existing'))).toString()).toBe('stays');
        expect(await store.head('move/new')).toBeUndefined();
      });

      it.each(ESCAPING_KEYS)('refuses %j (%s) as either key with InvalidKeyError, moving nothing', async (key) => {
        const move = moveOf(store);
        if (!move) return;
        await store.put('move/valid', Buffer.from('x'));
        await expect(move(key, 'move/elsewhere')).rejects.toMatchObject({ code: 'INVALID_KEY' });
        await expect(move('move/valid', key)).rejects.toMatchObject({ code: 'INVALID_KEY' });
        expect((await store.list()).objects.map((o) => o.key)).toEqual(['move/valid']);
      });

      it('leaves readers of the destination only whole versions while moves race with writes', async () => {
        const move = moveOf(store);
        if (!move) return;
        const size = MiB;
        for (const fill of [1, 3]) await store.put(`move/race-${fill}`, Buffer.alloc(size, fill));
        const writers = [1, 2, 3, 4].map((fill) => (fill % 2 ? move(`move/race-${fill}`, 'move/raced') : store.put('move/raced', slowStream(size, fill))));
        const seen: string[] = [];
        const reader = (async () => {
          for (let i = 0; i < 10; i++) {
            await new Promise((r) => setImmediate(r));
            try {
              seen.push(wholeVersionOf(await readAll(await store.get('move/raced')), size));
            } catch (err) {
              if ((err as { code?: string }).code !== 'OBJECT_NOT_FOUND') throw err;
            }
          }
        })();
        await Promise.all([...writers, reader]);
        expect(seen.filter((v) => !v.startsWith('whole'))).toEqual([]);
        expect(wholeVersionOf(await readAll(await store.get('move/raced')), size)).toMatch(/^whole [1-4]$/);
        expect((await store.list({ prefix: 'move/race-' })).objects).toEqual([]);
      });
    });

    describe('delete', () => {
      it('removes an object, and succeeds again for the same key', async () => {
        await store.put('gone/soon', Buffer.from('x'));
        await store.delete('gone/soon');
        expect(await store.head('gone/soon')).toBeUndefined();
        await expect(store.get('gone/soon')).rejects.toMatchObject({ code: 'OBJECT_NOT_FOUND' });
        await expect(store.delete('gone/soon')).resolves.toBeUndefined();
      });

      it('succeeds for a key that never existed', async () => {
        await expect(store.delete('never/was/here')).resolves.toBeUndefined();
      });

      it('leaves other objects under the same prefix alone', async () => {
        await store.put('dir/a', Buffer.from('a'));
        await store.put('dir/b', Buffer.from('b'));
        await store.delete('dir/a');
        expect((await store.list({ prefix: 'dir/' })).objects.map((o) => o.key)).toEqual(['dir/b']);
      });
    });

    describe('list', () => {
      it('lists nothing in an empty store, without a cursor', async () => {
        expect(await store.list()).toEqual({ objects: [] });
      });

      it('lists keys in UTF-8 byte order with their sizes', async () => {
        // JS string order puts the emoji (a surrogate pair) before U+FFFD; UTF-8 byte order does not.
        // '-' and '.' sort before '/', so 'a-c' and 'a.c' come before everything under 'a/'.
        const keys = ['b', 'a/b', 'a-c', 'z/\uFFFD', 'z/😀', 'Z', 'a/c/d', 'a.c'];
        for (const key of keys) await store.put(key, Buffer.from(key));
        const page = await store.list();
        const expected = ['Z', 'a-c', 'a.c', 'a/b', 'a/c/d', 'b', 'z/\uFFFD', 'z/😀'];
        expect(page.objects.map((o) => o.key)).toEqual(expected);
        expect(page.objects.map((o) => o.size)).toEqual(expected.map((k) => Buffer.byteLength(k)));
        expect(page.objects[0].lastModified).toBeInstanceOf(Date);
        expect(page.nextCursor).toBeUndefined();
      });

      it('filters by a prefix that need not end at a slash', async () => {
        for (const key of ['logs/2024-01/a', 'logs/2024-02', 'logs/2025-01/b', 'logs2/x', 'other']) await store.put(key, Buffer.from('.'));
        expect((await store.list({ prefix: 'logs/2024-0' })).objects.map((o) => o.key)).toEqual(['logs/2024-01/a', 'logs/2024-02']);
        expect((await store.list({ prefix: 'logs/' })).objects.map((o) => o.key)).toEqual(['logs/2024-01/a', 'logs/2024-02', 'logs/2025-01/b']);
        expect((await store.list({ prefix: 'logs' })).objects).toHaveLength(4);
        expect((await store.list({ prefix: 'nothing/here' })).objects).toEqual([]);
      });

      it('pages with a cursor, every key exactly once, in order', async () => {
        const keys = Array.from({ length: 7 }, (_, i) => `paged/${String.fromCharCode(103 - i)}/${i}`);
        for (const key of keys) await store.put(key, Buffer.from(key));
        await store.put('unpaged', Buffer.from('not under the prefix'));
        const pages: string[][] = [];
        let cursor: string | undefined;
        do {
          const page = await store.list({ prefix: 'paged/', limit: 3, cursor });
          pages.push(page.objects.map((o) => o.key));
          cursor = page.nextCursor;
        } while (cursor !== undefined && pages.length < 10);
        expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
        expect(pages.flat()).toEqual([...keys].sort(compareKeys));
      });

      it('ends paging without an empty page when the last page is full', async () => {
        for (const key of ['full/1', 'full/2', 'full/3', 'full/4']) await store.put(key, Buffer.from('.'));
        const first = await store.list({ prefix: 'full/', limit: 2 });
        const second = await store.list({ prefix: 'full/', limit: 2, cursor: first.nextCursor });
        expect(second.objects.map((o) => o.key)).toEqual(['full/3', 'full/4']);
        expect(second.nextCursor).toBeUndefined();
      });
    });

    describe('ranges', () => {
      const bytes = pattern(1000, 9);

      beforeEach(async () => {
        await store.put('ranged', bytes);
      });

      it('reads length bytes from offset', async () => {
        expect(await readAll(await store.get('ranged', { range: { offset: 100, length: 50 } }))).toEqual(bytes.subarray(100, 150));
      });

      it('reads from offset to the end without a length', async () => {
        expect(await readAll(await store.get('ranged', { range: { offset: 990 } }))).toEqual(bytes.subarray(990));
      });

      it('cuts a range off at the end of the object', async () => {
        expect(await readAll(await store.get('ranged', { range: { offset: 995, length: 100 } }))).toEqual(bytes.subarray(995));
      });

      it('refuses an offset at or past the end with InvalidRangeError', async () => {
        await expect(store.get('ranged', { range: { offset: 1000 } })).rejects.toMatchObject({ code: 'INVALID_RANGE' });
        await expect(store.get('ranged', { range: { offset: 5000, length: 1 } })).rejects.toMatchObject({ code: 'INVALID_RANGE' });
      });

      it('refuses a negative offset or a length under 1 with InvalidRangeError', async () => {
        await expect(store.get('ranged', { range: { offset: -1 } })).rejects.toMatchObject({ code: 'INVALID_RANGE' });
        await expect(store.get('ranged', { range: { offset: 0, length: 0 } })).rejects.toMatchObject({ code: 'INVALID_RANGE' });
      });

      it('throws ObjectNotFoundError for a range of a missing object', async () => {
        await expect(store.get('missing', { range: { offset: 0, length: 1 } })).rejects.toMatchObject({ code: 'OBJECT_NOT_FOUND' });
      });
    });

    describe('multipart uploads', () => {
      const part1 = pattern(MULTIPART_LIMITS.minPartSize, 11);
      const part2 = pattern(MULTIPART_LIMITS.minPartSize + 3, 12);
      const part3 = pattern(1234, 13);

      it('completes parts uploaded out of order into the object, in part order', async () => {
        const upload = await store.createMultipartUpload('multi/model.bin');
        expect(upload.key).toBe('multi/model.bin');
        const r3 = await store.uploadPart(upload, 3, part3);
        const r1 = await store.uploadPart(upload, 1, Readable.from([part1.subarray(0, 1000), part1.subarray(1000)]));
        const r2 = await store.uploadPart(upload, 2, part2);
        expect([r1.size, r2.size, r3.size]).toEqual([part1.length, part2.length, part3.length]);
        expect(await store.head('multi/model.bin')).toBeUndefined();

        const info = await store.completeMultipartUpload(upload, [r1, r2, r3].map(({ partNumber, etag }) => ({ partNumber, etag })));
        const whole = Buffer.concat([part1, part2, part3]);
        expect(info).toMatchObject({ key: 'multi/model.bin', size: whole.length });
        if (info.sha256 !== undefined) expect(info.sha256).toBe(sha256(whole));
        expect(sha256(await readAll(await store.get('multi/model.bin')))).toBe(sha256(whole));
        expect((await store.head('multi/model.bin'))?.size).toBe(whole.length);
      });

      it('uses the last upload of a part number', async () => {
        const upload = await store.createMultipartUpload('multi/replaced');
        await store.uploadPart(upload, 1, pattern(MULTIPART_LIMITS.minPartSize, 20));
        const again = await store.uploadPart(upload, 1, part1);
        const last = await store.uploadPart(upload, 2, part3);
        await store.completeMultipartUpload(upload, [again, last]);
        expect(sha256(await readAll(await store.get('multi/replaced')))).toBe(sha256(Buffer.concat([part1, part3])));
      });

      it('refuses parts listed out of order, missing, with a stale etag, or too small', async () => {
        const upload = await store.createMultipartUpload('multi/refused');
        const small = await store.uploadPart(upload, 1, part3);
        const r2 = await store.uploadPart(upload, 2, part2);
        const r3 = await store.uploadPart(upload, 3, part3);
        const invalidPart = { name: 'InvalidPartError', code: 'INVALID_PART' };
        await expect(store.completeMultipartUpload(upload, [r2, r3].reverse())).rejects.toMatchObject(invalidPart);
        await expect(store.completeMultipartUpload(upload, [r2, { partNumber: 4, etag: r3.etag }])).rejects.toMatchObject(invalidPart);
        await expect(store.completeMultipartUpload(upload, [r2, { partNumber: 3, etag: r2.etag }])).rejects.toMatchObject(invalidPart);
        await expect(store.completeMultipartUpload(upload, [small, r2])).rejects.toMatchObject(invalidPart);
        await expect(store.completeMultipartUpload(upload, [])).rejects.toMatchObject(invalidPart);
        expect(await store.head('multi/refused')).toBeUndefined();
        // The upload survives a refused completion.
        await store.completeMultipartUpload(upload, [r2, r3]);
        expect((await store.head('multi/refused'))?.size).toBe(part2.length + part3.length);
      });

      it('refuses part numbers outside 1 to 10000', async () => {
        const upload = await store.createMultipartUpload('multi/numbers');
        await expect(store.uploadPart(upload, 0, part3)).rejects.toMatchObject({ code: 'INVALID_PART' });
        await expect(store.uploadPart(upload, MULTIPART_LIMITS.maxPartNumber + 1, part3)).rejects.toMatchObject({ code: 'INVALID_PART' });
        await expect(store.uploadPart(upload, 1.5, part3)).rejects.toMatchObject({ code: 'INVALID_PART' });
      });

      it('ends the upload on completion', async () => {
        const upload = await store.createMultipartUpload('multi/ended');
        const r1 = await store.uploadPart(upload, 1, part3);
        await store.completeMultipartUpload(upload, [r1]);
        await expect(store.uploadPart(upload, 2, part3)).rejects.toMatchObject({ name: 'UploadNotFoundError', code: 'UPLOAD_NOT_FOUND' });
        await expect(store.completeMultipartUpload(upload, [r1])).rejects.toMatchObject({ code: 'UPLOAD_NOT_FOUND' });
      });

      it('aborts: nothing becomes visible, the upload is gone, and aborting again succeeds', async () => {
        await store.put('multi/aborted', Buffer.from('previous'));
        const upload = await store.createMultipartUpload('multi/aborted');
        await store.uploadPart(upload, 1, part3);
        await store.abortMultipartUpload(upload);
        expect((await readAll(await store.get('multi/aborted'))).toString()).toBe('previous');
        await expect(store.uploadPart(upload, 2, part3)).rejects.toMatchObject({ code: 'UPLOAD_NOT_FOUND' });
        await expect(store.abortMultipartUpload(upload)).resolves.toBeUndefined();
      });

      it('throws UploadNotFoundError for an upload id it never issued', async () => {
        const upload = { key: 'multi/unknown', uploadId: 'no-such-upload' };
        await expect(store.uploadPart(upload, 1, part3)).rejects.toMatchObject({ code: 'UPLOAD_NOT_FOUND' });
        await expect(store.completeMultipartUpload(upload, [{ partNumber: 1, etag: 'x' }])).rejects.toMatchObject({ code: 'UPLOAD_NOT_FOUND' });
      });

      it('keeps two uploads of one key apart', async () => {
        const a = await store.createMultipartUpload('multi/twice');
        const b = await store.createMultipartUpload('multi/twice');
        expect(a.uploadId).not.toBe(b.uploadId);
        const ra = await store.uploadPart(a, 1, Buffer.from('from a'));
        const rb = await store.uploadPart(b, 1, Buffer.from('from b'));
        await store.completeMultipartUpload(b, [rb]);
        await store.completeMultipartUpload(a, [ra]);
        expect((await readAll(await store.get('multi/twice'))).toString()).toBe('from a');
      });
    });

    describe('key rules', () => {
      it.each(ESCAPING_KEYS)('refuses key %j (%s) with InvalidKeyError on every method', async (key) => {
        const invalidKey = { name: 'InvalidKeyError', code: 'INVALID_KEY' };
        await expect(store.put(key, Buffer.from('x'))).rejects.toMatchObject(invalidKey);
        await expect(store.get(key)).rejects.toMatchObject(invalidKey);
        await expect(store.head(key)).rejects.toMatchObject(invalidKey);
        await expect(store.delete(key)).rejects.toMatchObject(invalidKey);
        await expect(store.createMultipartUpload(key)).rejects.toMatchObject(invalidKey);
      });

      it('says in the message what is wrong with the key', async () => {
        await expect(store.put('../up', Buffer.from('x'))).rejects.toThrow(/'\.\.'/);
        await expect(store.put('a\\b', Buffer.from('x'))).rejects.toThrow(/backslash/);
      });

      it('stores nothing for a refused key', async () => {
        await expect(store.put('a/../b', Buffer.from('x'))).rejects.toMatchObject({ code: 'INVALID_KEY' });
        expect(await store.list()).toEqual({ objects: [] });
      });
    });

    describe('concurrency', () => {
      it('leaves one whole version when writers race on a key, and readers only ever see whole versions', async () => {
        const size = 2 * MiB;
        const writers = Array.from({ length: 8 }, (_, i) => store.put('raced', slowStream(size, i + 1)));
        const seen: string[] = [];
        const readers = Array.from({ length: 8 }, async () => {
          for (let i = 0; i < 5; i++) {
            await new Promise((r) => setTimeout(r, 5));
            try {
              seen.push(wholeVersionOf(await readAll(await store.get('raced')), size));
            } catch (err) {
              if ((err as { code?: string }).code !== 'OBJECT_NOT_FOUND') throw err;
            }
          }
        });
        const results = await Promise.all(writers);
        await Promise.all(readers);

        const final = await readAll(await store.get('raced'));
        const version = wholeVersionOf(final, size);
        expect(seen.filter((v) => !v.startsWith('whole'))).toEqual([]);
        expect(results.map((r) => r.sha256)).toContain(sha256(final));
        const info = await store.head('raced');
        expect(info?.size).toBe(size);
        if (info?.sha256 !== undefined) expect(info.sha256).toBe(sha256(final));
        expect(version).toMatch(/^whole [1-8]$/);
      });
    });
  });
}

/** A stream that gives what is pushed into it and never ends by itself. */
function stalled(): Readable {
  return new Readable({ read: () => undefined });
}

/** `size` bytes that depend on `seed`, so two patterns of different seeds differ everywhere. */
function pattern(size: number, seed: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed * 17) & 0xff;
  return bytes;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** A stream of `size` bytes all equal to `fill`, in chunks with pauses so that concurrent writers interleave. */
function slowStream(size: number, fill: number): Readable {
  const chunk = 64 * 1024;
  return Readable.from(
    (async function* () {
      for (let sent = 0; sent < size; sent += chunk) {
        await new Promise((r) => setImmediate(r));
        yield Buffer.alloc(Math.min(chunk, size - sent), fill);
      }
    })(),
  );
}

/** `whole <fill>` when `bytes` is one writer's version, whole; otherwise a description of the mix. */
function wholeVersionOf(bytes: Buffer, size: number): string {
  if (bytes.length !== size) return `torn: ${bytes.length} bytes`;
  const fill = bytes[0];
  return bytes.every((b) => b === fill) ? `whole ${fill}` : 'torn: mixed writers';
}

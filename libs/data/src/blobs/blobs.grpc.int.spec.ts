import { status, type ServiceError } from '@grpc/grpc-js';
import { callEveryMethodWithoutToken, statusDetailsOf, type GrpcClient, type RunningService } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import type { ObjectStore } from '@trellis/plugin-sdk';
import { BlobServiceDesc, DataServiceDesc, PluginInstanceServiceDesc, PluginKind } from '@trellis/proto';
import { serviceDatabases, type ServiceDatabase } from '@trellis/testing';
import { createHash, randomBytes } from 'node:crypto';
import { dataService } from '../data.definition';
import { BlobUploadEntity } from './blob-upload.entity';
import { blobKey } from './blob-store';
import { startTestStorage, type TestStorage } from './test-storage';

type Client = GrpcClient<(typeof BlobServiceDesc)['method']>;
type Role = 'viewer' | 'editor' | 'admin' | 'owner';

const MiB = 1024 * 1024;
const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const failure = async (call: Promise<unknown>) => (await call.then(() => undefined, (error: unknown) => error)) as ServiceError | undefined;
const reasonOf = (error: ServiceError | undefined) => (error?.metadata ? statusDetailsOf(error.metadata)?.reason : undefined);

async function* uploadRequests(projectId: string, sha256: string, size: number, bytes: Uint8Array) {
  yield { part: { case: 'header' as const, value: { projectId, sha256, size: BigInt(size) } } };
  for (let at = 0; at < bytes.length; at += 256 * 1024) yield { part: { case: 'chunk' as const, value: bytes.subarray(at, at + 256 * 1024) } };
}

/** `size` bytes that differ from those of any other `label`: each 64-byte line names the label and its position. */
function labelled(label: string, size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let at = 0; at < size; at += 64) bytes.write(`${label} ${at}`.padEnd(64, '.'), at, 'latin1');
  return bytes;
}

async function* partRequests(uploadId: string, partNumber: number, bytes: Uint8Array, size = bytes.length) {
  yield { part: { case: 'header' as const, value: { uploadId, partNumber, size: BigInt(size) } } };
  for (let at = 0; at < bytes.length; at += 256 * 1024) yield { part: { case: 'chunk' as const, value: bytes.subarray(at, at + 256 * 1024) } };
}

async function collect(chunks: AsyncIterable<{ chunk: Uint8Array }>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const { chunk } of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

/** Every key under the data service's prefix, through all pages. */
async function keysOf(store: ObjectStore): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ prefix: 'blobs/', cursor });
    keys.push(...page.objects.map((object) => object.key));
    cursor = page.nextCursor;
  } while (cursor);
  return keys;
}

describe.each(serviceDatabases('data'))('blobs through gRPC (%s)', (_database, databaseFor) => {
  let database: ServiceDatabase;
  let platform: TestPlatform;
  let service: RunningService;
  let storage: TestStorage;
  let store: ObjectStore;
  let editor: Client;
  let viewer: Client;
  let outsider: Client;

  const clientFor = (sub: string, bindings: Array<{ project: string; role: Role }>) => platform.client(BlobServiceDesc, service.grpcAddress, { sub, bindings });

  beforeAll(async () => {
    database = await databaseFor();
    storage = await startTestStorage();
    platform = await TestPlatform.start({ ...database.env, ...storage.env }, { plugins: storage.plugins });
    service = await platform.startService(dataService);
    store = storage.stores.get('default')!;
    editor = await clientFor('erin', [{ project: 'p1', role: 'editor' }]);
    viewer = await clientFor('vic', [{ project: 'p1', role: 'viewer' }]);
    outsider = await clientFor('oscar', [{ project: 'p2', role: 'owner' }]);
  });

  afterAll(async () => {
    await platform?.stop();
    await storage?.close();
    await database?.cleanup();
  });

  it('answers UNAUTHENTICATED on every method without a token', async () => {
    const results = await callEveryMethodWithoutToken(dataService.grpcServices, service.grpcAddress);
    expect(results.filter((result) => result.code !== status.UNAUTHENTICATED)).toEqual([]);
  });

  it('stores a blob once under its digest: the second upload and FindMissingBlobs see it stored', async () => {
    const bytes = randomBytes(MiB + 17);
    const sha256 = sha256Of(bytes);
    const other = sha256Of(Buffer.from('never uploaded'));
    expect((await editor.findMissingBlobs({ projectId: 'p1', sha256s: [sha256, other, sha256] })).missing).toEqual([sha256, other]);

    const first = await editor.uploadBlob(uploadRequests('p1', sha256, bytes.length, bytes));
    expect(first).toMatchObject({ alreadyStored: false, blob: { sha256, size: BigInt(bytes.length), storeName: 'default' } });
    const stored = await store.head(blobKey(sha256));
    expect(stored?.size).toBe(bytes.length);

    const second = await editor.uploadBlob(uploadRequests('p1', sha256, bytes.length, bytes));
    expect(second.alreadyStored).toBe(true);
    expect((await store.head(blobKey(sha256)))?.etag).toBe(stored?.etag);
    expect((await editor.findMissingBlobs({ projectId: 'p1', sha256s: [sha256, other] })).missing).toEqual([other]);
    expect((await keysOf(store)).filter((key) => key.endsWith(sha256))).toEqual([blobKey(sha256)]);

    expect((await collect(viewer.downloadBlob({ projectId: 'p1', sha256 }))).equals(bytes)).toBe(true);
    expect((await collect(viewer.downloadBlob({ projectId: 'p1', sha256, offset: 1000n, length: 10n }))).equals(bytes.subarray(1000, 1010))).toBe(true);
  });

  it('refuses bytes whose digest or size is not the one announced, and stores nothing', async () => {
    const bytes = randomBytes(300 * 1024);
    const claimed = sha256Of(Buffer.from('something else'));
    const before = await keysOf(store);

    const mismatch = await failure(editor.uploadBlob(uploadRequests('p1', claimed, bytes.length, bytes)));
    expect(mismatch?.code).toBe(status.INVALID_ARGUMENT);
    expect(reasonOf(mismatch)).toBe('DIGEST_MISMATCH');
    expect(mismatch?.details).toContain(claimed.slice(0, 12));
    expect(mismatch?.details).toContain(sha256Of(bytes).slice(0, 12));

    const short = await failure(editor.uploadBlob(uploadRequests('p1', sha256Of(bytes), bytes.length + 1, bytes)));
    expect(short?.code).toBe(status.INVALID_ARGUMENT);
    expect(short?.details).toContain('size');

    expect(await keysOf(store)).toEqual(before);
    expect((await editor.findMissingBlobs({ projectId: 'p1', sha256s: [claimed, sha256Of(bytes)] })).missing).toEqual([claimed, sha256Of(bytes)]);
  });

  it.each([
    ['hashed in memory', 100 * 1024],
    ['staged under a key of its own', 5 * MiB + 3],
  ])('stores bytes sent without a digest under the digest they have (%s), and the same bytes again as already stored', async (_how, size) => {
    const bytes = labelled(`unnamed ${size}`, size);
    const sha256 = sha256Of(bytes);
    const before = await keysOf(store);

    const first = await editor.uploadBlob(uploadRequests('p1', '', size, bytes));
    expect(first).toMatchObject({ alreadyStored: false, blob: { sha256, size: BigInt(size), storeName: 'default' } });
    expect((await editor.findMissingBlobs({ projectId: 'p1', sha256s: [sha256] })).missing).toEqual([]);
    expect((await collect(viewer.downloadBlob({ projectId: 'p1', sha256 }))).equals(bytes)).toBe(true);
    const stored = await store.head(blobKey(sha256));

    expect(await editor.uploadBlob(uploadRequests('p1', '', size, bytes))).toMatchObject({ alreadyStored: true, blob: { sha256, size: BigInt(size) } });
    expect(await editor.uploadBlob(uploadRequests('p1', sha256, size, bytes))).toMatchObject({ alreadyStored: true });
    // Nothing staged is left behind, and the stored object was not written again.
    expect(await keysOf(store)).toEqual([...before, blobKey(sha256)].sort());
    expect(await store.head(blobKey(sha256))).toEqual(stored);
  });

  it('refuses bytes sent without a digest that are more or fewer than announced, and stores nothing', async () => {
    const bytes = labelled('unnamed size', 5 * MiB + 1);
    const before = await keysOf(store);
    for (const announced of [bytes.length - 1, bytes.length + 1, 1000]) {
      const refused = await failure(editor.uploadBlob(uploadRequests('p1', '', announced, bytes)));
      expect([refused?.code, reasonOf(refused)]).toEqual([status.INVALID_ARGUMENT, 'SIZE_MISMATCH']);
      expect(refused?.details).toContain(`not ${announced} as announced`);
    }
    expect(await keysOf(store)).toEqual(before);
    expect((await editor.findMissingBlobs({ projectId: 'p1', sha256s: [sha256Of(bytes)] })).missing).toEqual([sha256Of(bytes)]);
    const denied = await failure(viewer.uploadBlob(uploadRequests('p1', '', bytes.length, bytes)));
    expect(denied?.code).toBe(status.PERMISSION_DENIED);
  });

  it('names the field of a bad digest, and refuses more than 10,000 digests', async () => {
    const bad = await failure(editor.findMissingBlobs({ projectId: 'p1', sha256s: ['a'.repeat(64), 'NOT-HEX'] }));
    expect(bad?.code).toBe(status.INVALID_ARGUMENT);
    expect(bad?.details).toContain('sha256s[1]');
    const many = await failure(editor.findMissingBlobs({ projectId: 'p1', sha256s: Array.from({ length: 10_001 }, () => 'a'.repeat(64)) }));
    expect(many?.code).toBe(status.INVALID_ARGUMENT);
    const headless = await failure(editor.uploadBlob((async function* () { yield { part: { case: 'chunk' as const, value: Buffer.from('x') } }; })()));
    expect(headless?.details).toContain('header');
  });

  it('resumes an upload in parts after a dropped part: the parts listed are the ones stored, and the blob is whole', async () => {
    const bytes = randomBytes(12 * MiB + 5);
    const sha256 = sha256Of(bytes);
    const parts = [bytes.subarray(0, 5 * MiB), bytes.subarray(5 * MiB, 10 * MiB), bytes.subarray(10 * MiB)];
    const started = await editor.startBlobUpload({ projectId: 'p1', sha256, size: BigInt(bytes.length) });
    expect(started.alreadyStored).toBe(false);
    expect(Number(started.expireTime?.seconds) * 1000).toBeGreaterThan(Date.now());
    const uploadId = started.uploadId;

    await editor.uploadBlobPart(partRequests(uploadId, 1, parts[0]));
    // The connection drops halfway through part 2: the client's stream fails before it ends.
    const dropped = await failure(
      editor.uploadBlobPart(
        (async function* () {
          yield* partRequests(uploadId, 2, parts[1].subarray(0, 2 * MiB), parts[1].length);
          throw new Error('connection lost');
        })(),
      ),
    );
    expect(dropped).toBeDefined();

    const listed = await editor.listBlobUploadParts({ uploadId });
    expect(listed.parts.map((part) => [part.partNumber, Number(part.size)])).toEqual([[1, 5 * MiB]]);
    for (const number of [2, 3].filter((n) => !listed.parts.some((part) => part.partNumber === n))) {
      await editor.uploadBlobPart(partRequests(uploadId, number, parts[number - 1]));
    }
    const completed = await editor.completeBlobUpload({ uploadId });
    expect(completed.blob).toMatchObject({ sha256, size: BigInt(bytes.length) });
    expect(sha256Of(await collect(viewer.downloadBlob({ projectId: 'p1', sha256 })))).toBe(sha256);
    expect((await keysOf(store)).filter((key) => key.startsWith('blobs/uploads/'))).toEqual([]);
    expect((await failure(editor.listBlobUploadParts({ uploadId })))?.code).toBe(status.NOT_FOUND);
  });

  it('completes an upload in parts whose bytes do not match with DIGEST_MISMATCH, storing nothing', async () => {
    const bytes = randomBytes(64 * 1024);
    const claimed = sha256Of(Buffer.from('not these bytes'));
    const { uploadId } = await editor.startBlobUpload({ projectId: 'p1', sha256: claimed, size: BigInt(bytes.length) });
    await editor.uploadBlobPart(partRequests(uploadId, 1, bytes));
    const mismatch = await failure(editor.completeBlobUpload({ uploadId }));
    expect(mismatch?.code).toBe(status.INVALID_ARGUMENT);
    expect(reasonOf(mismatch)).toBe('DIGEST_MISMATCH');
    expect(await store.head(blobKey(claimed))).toBeUndefined();
    expect((await keysOf(store)).filter((key) => key.startsWith('blobs/uploads/'))).toEqual([]);
    expect((await editor.findMissingBlobs({ projectId: 'p1', sha256s: [claimed] })).missing).toEqual([claimed]);
  });

  it('refuses an expired upload, and hides uploads from callers who may not write their project', async () => {
    const bytes = randomBytes(1024);
    const sha256 = sha256Of(bytes);
    const { uploadId } = await editor.startBlobUpload({ projectId: 'p1', sha256, size: BigInt(bytes.length) });

    const foreign = await failure(outsider.uploadBlobPart(partRequests(uploadId, 1, bytes)));
    expect(foreign?.code).toBe(status.NOT_FOUND);
    expect((await failure(outsider.completeBlobUpload({ uploadId })))?.code).toBe(status.NOT_FOUND);
    expect((await failure(viewer.listBlobUploadParts({ uploadId })))?.code).toBe(status.PERMISSION_DENIED);
    expect((await failure(viewer.uploadBlob(uploadRequests('p1', sha256, bytes.length, bytes))))?.code).toBe(status.PERMISSION_DENIED);
    expect((await failure(outsider.findMissingBlobs({ projectId: 'p1', sha256s: [sha256] })))?.code).toBe(status.PERMISSION_DENIED);
    expect((await failure(collect(outsider.downloadBlob({ projectId: 'p1', sha256 }))))?.code).toBe(status.PERMISSION_DENIED);

    await service.dataSource.transaction((tx) => tx.update(BlobUploadEntity, { id: uploadId }, { expiresAt: Date.now() - 1 }));
    const expired = await failure(editor.uploadBlobPart(partRequests(uploadId, 1, bytes)));
    expect(expired?.code).toBe(status.FAILED_PRECONDITION);
    expect(reasonOf(expired)).toBe('UPLOAD_EXPIRED');
    await editor.abortBlobUpload({ uploadId });
    expect((await failure(editor.listBlobUploadParts({ uploadId })))?.code).toBe(status.NOT_FOUND);
  });

  it("keeps a project's blobs its own: a project sharing the instance neither learns of nor reads them by digest until it uploads the bytes", async () => {
    const bytes = randomBytes(200 * 1024);
    const sha256 = sha256Of(bytes);
    await editor.uploadBlob(uploadRequests('p1', sha256, bytes.length, bytes));
    const stored = await store.head(blobKey(sha256));
    const data = await platform.client(DataServiceDesc, service.grpcAddress, { sub: 'oscar', bindings: [{ project: 'p2', role: 'owner' }] });
    const datasetId = (await data.createDataset({ projectId: 'p2', name: 'shared-bytes' })).dataset!.id;
    const commit = () =>
      data.commitDatasetVersion(
        (async function* () {
          yield { part: { case: 'header' as const, value: { datasetId, message: 'borrow' } } };
          yield { part: { case: 'changes' as const, value: { put: [{ path: 'a.bin', sizeBytes: BigInt(bytes.length), sha256 }] } } };
        })(),
      );

    expect((await outsider.findMissingBlobs({ projectId: 'p2', sha256s: [sha256] })).missing).toEqual([sha256]);
    const theirs = await failure(collect(outsider.downloadBlob({ projectId: 'p2', sha256 })));
    const nobodys = await failure(collect(outsider.downloadBlob({ projectId: 'p2', sha256: sha256Of(Buffer.from('nobody stored this')) })));
    expect([theirs?.code, reasonOf(theirs)]).toEqual([status.NOT_FOUND, 'BLOB_NOT_FOUND']);
    expect([nobodys?.code, reasonOf(nobodys)]).toEqual([status.NOT_FOUND, 'BLOB_NOT_FOUND']);
    expect(reasonOf(await failure(commit()))).toBe('BLOBS_MISSING');
    expect(await outsider.startBlobUpload({ projectId: 'p2', sha256, size: BigInt(bytes.length) })).toMatchObject({ alreadyStored: false });

    // Claiming the digest with other bytes gains nothing, in one stream or in parts.
    const forged = randomBytes(bytes.length);
    expect(reasonOf(await failure(outsider.uploadBlob(uploadRequests('p2', sha256, bytes.length, forged))))).toBe('DIGEST_MISMATCH');
    const { uploadId } = await outsider.startBlobUpload({ projectId: 'p2', sha256, size: BigInt(bytes.length) });
    await outsider.uploadBlobPart(partRequests(uploadId, 1, forged));
    expect(reasonOf(await failure(outsider.completeBlobUpload({ uploadId })))).toBe('DIGEST_MISMATCH');
    expect((await outsider.findMissingBlobs({ projectId: 'p2', sha256s: [sha256] })).missing).toEqual([sha256]);
    expect((await collect(editor.downloadBlob({ projectId: 'p1', sha256 }))).equals(bytes)).toBe(true);

    expect(await outsider.uploadBlob(uploadRequests('p2', sha256, bytes.length, bytes))).toMatchObject({ alreadyStored: false, blob: { sha256, storeName: 'default' } });
    expect(await store.head(blobKey(sha256))).toEqual(stored);
    expect((await keysOf(store)).filter((key) => key.endsWith(sha256))).toEqual([blobKey(sha256)]);
    expect((await outsider.findMissingBlobs({ projectId: 'p2', sha256s: [sha256] })).missing).toEqual([]);
    expect((await commit()).version?.version).toBe(1n);
    expect((await collect(outsider.downloadBlob({ projectId: 'p2', sha256 }))).equals(bytes)).toBe(true);
  });

  it('says PRESIGN_UNSUPPORTED where the storage plugin issues no URLs, and needs no upload for a stored blob', async () => {
    const bytes = randomBytes(2048);
    const sha256 = sha256Of(bytes);
    const refused = await failure(editor.startBlobUpload({ projectId: 'p1', sha256, size: BigInt(bytes.length), presign: true }));
    expect(refused?.code).toBe(status.FAILED_PRECONDITION);
    expect(reasonOf(refused)).toBe('PRESIGN_UNSUPPORTED');
    await editor.uploadBlob(uploadRequests('p1', sha256, bytes.length, bytes));
    expect(await editor.startBlobUpload({ projectId: 'p1', sha256, size: BigInt(bytes.length) })).toMatchObject({ alreadyStored: true, uploadId: '' });
  });

  it('uploads through a presigned URL where the plugin issues one, and checks the digest on completion', async () => {
    const admin = await platform.client(PluginInstanceServiceDesc, service.grpcAddress, { sub: 'ada', bindings: [{ project: 'p3', role: 'admin' }] });
    await admin.setProjectPluginInstance({ service: 'data', projectId: 'p3', kind: PluginKind.STORAGE, name: 'presigning' });
    const owner = await clientFor('pat', [{ project: 'p3', role: 'editor' }]);
    const bytes = randomBytes(100 * 1024);
    const sha256 = sha256Of(bytes);

    const started = await owner.startBlobUpload({ projectId: 'p3', sha256, size: BigInt(bytes.length), presign: true });
    expect(started.presignedUrl).toMatch(/^http:/);
    const early = await failure(owner.completeBlobUpload({ uploadId: started.uploadId }));
    expect(reasonOf(early)).toBe('UPLOAD_EMPTY');
    expect((await failure(owner.uploadBlobPart(partRequests(started.uploadId, 1, bytes))))?.code).toBe(status.FAILED_PRECONDITION);
    expect((await fetch(started.presignedUrl, { method: 'PUT', body: bytes })).status).toBe(200);
    expect((await owner.completeBlobUpload({ uploadId: started.uploadId })).blob).toMatchObject({ sha256, storeName: 'presigning' });
    expect(await storage.stores.get('presigning')!.head(blobKey(sha256))).toMatchObject({ size: bytes.length });
    expect(await store.head(blobKey(sha256))).toBeUndefined();

    const wrong = randomBytes(1000);
    const claimed = sha256Of(Buffer.from('claimed'));
    const second = await owner.startBlobUpload({ projectId: 'p3', sha256: claimed, size: BigInt(wrong.length), presign: true });
    await fetch(second.presignedUrl, { method: 'PUT', body: wrong });
    expect(reasonOf(await failure(owner.completeBlobUpload({ uploadId: second.uploadId })))).toBe('DIGEST_MISMATCH');
    expect((await keysOf(storage.stores.get('presigning')!)).filter((key) => !key.endsWith(sha256))).toEqual([]);
  });
});

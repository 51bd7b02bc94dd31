import { status, type ServiceError } from '@grpc/grpc-js';
import { statusDetailsOf, type GrpcClient, type RunningService } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import type { ObjectStore } from '@trellis/plugin-sdk';
import { BlobServiceDesc, DataServiceDesc } from '@trellis/proto';
import { serviceDatabases, type ServiceDatabase } from '@trellis/testing';
import { createHash, randomBytes } from 'node:crypto';
import { dataService } from '../data.definition';
import { BlobEntity } from './blob.entity';
import { ProjectBlobEntity } from './project-blob.entity';
import { BlobGcService } from './blob-gc.service';
import { BlobGcWorker } from './blob-gc.worker';
import { BlobUploadEntity } from './blob-upload.entity';
import { blobKey } from './blob-store';
import { startTestStorage, type TestStorage } from './test-storage';

const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const GRACE = 60_000;

describe.each(serviceDatabases('data'))('garbage collection of blobs (%s)', (_database, databaseFor) => {
  let database: ServiceDatabase;
  let storage: TestStorage;
  let platform: TestPlatform;
  let service: RunningService;
  let store: ObjectStore;
  let gc: BlobGcService;
  let data: GrpcClient<(typeof DataServiceDesc)['method']>;
  let blobs: GrpcClient<(typeof BlobServiceDesc)['method']>;

  const upload = async (bytes: Buffer, projectId = 'p1') => {
    await blobs.uploadBlob(
      (async function* () {
        yield { part: { case: 'header' as const, value: { projectId, sha256: sha256Of(bytes), size: BigInt(bytes.length) } } };
        yield { part: { case: 'chunk' as const, value: bytes } };
      })(),
    );
    return { sha256: sha256Of(bytes), size: bytes.length };
  };
  const commit = (datasetId: string, files: Array<{ sha256: string; size: number }>, tag: string) =>
    data.commitDatasetVersion(
      (async function* () {
        yield { part: { case: 'header' as const, value: { datasetId, message: tag } } };
        yield { part: { case: 'changes' as const, value: { put: files.map((file, i) => ({ path: `${tag}/${i}.bin`, sizeBytes: BigInt(file.size), sha256: file.sha256 })) } } };
      })(),
    );
  /** Every blob's and every project hold's mark moved past the grace period, as if they were stored and last named long ago. */
  const age = () =>
    service.dataSource.transaction(async (tx) => {
      await tx.update(BlobEntity, { storeName: 'default' }, { lastReferencedAt: Date.now() - 10 * GRACE });
      await tx.update(ProjectBlobEntity, { storeName: 'default' }, { lastReferencedAt: Date.now() - 10 * GRACE });
    });
  const stored = async (sha256: string) => (await store.head(blobKey(sha256))) !== undefined;

  beforeAll(async () => {
    database = await databaseFor();
    storage = await startTestStorage();
    platform = await TestPlatform.start({ ...database.env, ...storage.env }, { plugins: storage.plugins });
    service = await platform.startService(dataService);
    store = storage.stores.get('default')!;
    gc = service.app.get(BlobGcService);
    const identity = { sub: 'erin', bindings: [{ project: 'p1', role: 'editor' as const }, { project: 'p2', role: 'editor' as const }] };
    data = await platform.client(DataServiceDesc, service.grpcAddress, identity);
    blobs = await platform.client(BlobServiceDesc, service.grpcAddress, identity);
  });

  afterAll(async () => {
    await platform?.stop();
    await storage?.close();
    await database?.cleanup();
  });

  it('frees blobs no live version names once their grace period is over, and reports what it freed', async () => {
    const datasetId = (await data.createDataset({ projectId: 'p1', name: 'gc' })).dataset!.id;
    const kept = [await upload(randomBytes(1000)), await upload(randomBytes(2000))];
    const orphan = await upload(randomBytes(3000));
    await commit(datasetId, kept, 'v1');

    expect(await gc.collect(GRACE)).toEqual([{ storeName: 'default', deletedBlobs: 0, freedBytes: 0, releasedHolds: 0 }]);
    await age();
    expect(await gc.collect(GRACE)).toEqual([{ storeName: 'default', deletedBlobs: 1, freedBytes: 3000, releasedHolds: 1 }]);
    expect(await stored(orphan.sha256)).toBe(false);
    expect((await blobs.findMissingBlobs({ projectId: 'p1', sha256s: [orphan.sha256, ...kept.map((blob) => blob.sha256)] })).missing).toEqual([orphan.sha256]);
    for (const blob of kept) expect(await stored(blob.sha256)).toBe(true);

    await data.deleteDatasetVersion({ datasetId, version: 1n });
    await age();
    expect(await gc.collect(GRACE)).toEqual([{ storeName: 'default', deletedBlobs: 2, freedBytes: 3000, releasedHolds: 2 }]);
    for (const blob of kept) expect(await stored(blob.sha256)).toBe(false);
  });

  it('loses nothing a commit running beside it names: the commit keeps its blobs or fails with BLOBS_MISSING', async () => {
    const datasetId = (await data.createDataset({ projectId: 'p1', name: 'gc-race' })).dataset!.id;
    let committed = 0;
    for (let round = 0; round < 8; round++) {
      const files = await Promise.all(Array.from({ length: 20 }, () => upload(randomBytes(512))));
      await age();
      const [outcome] = await Promise.allSettled([commit(datasetId, files, `r${round}`), gc.collect(GRACE)]);
      if (outcome.status === 'fulfilled') {
        committed += 1;
        for (const file of files) expect(await stored(file.sha256)).toBe(true);
        expect((await blobs.findMissingBlobs({ projectId: 'p1', sha256s: files.map((file) => file.sha256) })).missing).toEqual([]);
      } else {
        const error = outcome.reason as ServiceError;
        expect(error.code).toBe(status.FAILED_PRECONDITION);
        expect(statusDetailsOf(error.metadata)?.reason).toBe('BLOBS_MISSING');
      }
    }
    // Whatever each race gave, every version still live can be read whole.
    const versions = (await data.listDatasetVersions({ datasetId })).versions;
    expect(versions.length).toBe(committed);
    await age();
    await gc.collect(GRACE);
    for (const version of versions) {
      const files = (await data.listDatasetVersionFiles({ datasetId, version: version.version })).files;
      for (const file of files) expect(await stored(file.sha256)).toBe(true);
    }
  });

  it("drops a project's hold that no live version of the project names, keeping the bytes while another project's version names them", async () => {
    const datasetId = (await data.createDataset({ projectId: 'p1', name: 'gc-holds' })).dataset!.id;
    const shared = randomBytes(1500);
    const both = await upload(shared);
    await upload(shared, 'p2');
    const p2Only = await upload(randomBytes(700), 'p2');
    const p2Dataset = (await data.createDataset({ projectId: 'p2', name: 'gc-holds' })).dataset!.id;
    await commit(datasetId, [both], 'h1');
    await commit(p2Dataset, [p2Only], 'h1');
    await age();

    expect(await gc.collect(GRACE)).toEqual([{ storeName: 'default', deletedBlobs: 0, freedBytes: 0, releasedHolds: 1 }]);
    expect((await blobs.findMissingBlobs({ projectId: 'p2', sha256s: [both.sha256, p2Only.sha256] })).missing).toEqual([both.sha256]);
    expect((await blobs.findMissingBlobs({ projectId: 'p1', sha256s: [both.sha256, p2Only.sha256] })).missing).toEqual([p2Only.sha256]);
    expect(await stored(both.sha256)).toBe(true);
    const released = await commit(p2Dataset, [both], 'h2').catch((error: ServiceError) => error);
    expect(statusDetailsOf((released as ServiceError).metadata)?.reason).toBe('BLOBS_MISSING');
  });

  it("drops expired uploads and their staged parts in the worker's sweep", async () => {
    const bytes = randomBytes(4096);
    const { uploadId } = await blobs.startBlobUpload({ projectId: 'p1', sha256: sha256Of(bytes), size: BigInt(bytes.length) });
    await blobs.uploadBlobPart(
      (async function* () {
        yield { part: { case: 'header' as const, value: { uploadId, partNumber: 1, size: BigInt(bytes.length) } } };
        yield { part: { case: 'chunk' as const, value: bytes } };
      })(),
    );
    await service.dataSource.transaction((tx) => tx.update(BlobUploadEntity, { id: uploadId }, { expiresAt: Date.now() - 1 }));
    await service.app.get(BlobGcWorker).sweep();
    expect((await blobs.listBlobUploadParts({ uploadId }).catch((error: ServiceError) => error))).toMatchObject({ code: status.NOT_FOUND });
    expect((await store.list({ prefix: 'blobs/uploads/' })).objects).toEqual([]);
  });
});

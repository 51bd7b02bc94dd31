import { fromBinary } from '@bufbuild/protobuf';
import { status, type ServiceError } from '@grpc/grpc-js';
import { statusDetailsOf, type EventSubscription, type GrpcClient, type RunningService } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import type { ObjectStore } from '@trellis/plugin-sdk';
import { AuditEventSchema, BlobServiceDesc, DataServiceDesc } from '@trellis/proto';
import { eventually, serviceDatabases, type ServiceDatabase } from '@trellis/testing';
import { createHash, randomBytes } from 'node:crypto';
import { Client as PgClient } from 'pg';
import { dataService } from '../data.definition';
import { BlobEntity } from './blob.entity';
import { ProjectBlobEntity } from './project-blob.entity';
import { BlobGcRepository, GC_LOCK_NAME } from './blob-gc.repository';
import { BlobGcService, SERVICE_ACTOR } from './blob-gc.service';
import { BlobGcWorker } from './blob-gc.worker';
import { BlobUploadEntity } from './blob-upload.entity';
import { blobKey } from './blob-store';
import { INTAKE_PREFIX } from './blob-intake';
import { startTestStorage, type TestStorage } from './test-storage';

const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
/** The shortest grace CollectGarbage takes, in milliseconds. */
const GRACE = 3600_000;
const COLLECT_GARBAGE = 'trellis.data.v1.BlobService/CollectGarbage';
type Blobs = GrpcClient<(typeof BlobServiceDesc)['method']>;

describe.each(serviceDatabases('data'))('garbage collection of blobs (%s)', (databaseName, databaseFor) => {
  let database: ServiceDatabase;
  let storage: TestStorage;
  let platform: TestPlatform;
  let service: RunningService;
  let store: ObjectStore;
  let gc: BlobGcService;
  let data: GrpcClient<(typeof DataServiceDesc)['method']>;
  let blobs: Blobs;
  let admin: Blobs;
  let owner: Blobs;
  const audits: Array<{ actor: string; action: string; method: string; resource: string }> = [];
  let auditSubscription: EventSubscription;

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
    auditSubscription = await platform.runtime.bus.subscribe({
      durable: 'blob-gc-spec-audit',
      subject: 'trellis.data.v1.audit.recorded',
      handler: async (envelope) => {
        const { actor, action, method, resource } = fromBinary(AuditEventSchema, envelope.payload);
        if (method === COLLECT_GARBAGE) audits.push({ actor, action, method, resource });
      },
    });
    service = await platform.startService(dataService);
    // The specs collect themselves: the worker's sweep at start would hold the lock they take.
    await service.stopWorkers();
    store = storage.stores.get('default')!;
    gc = service.app.get(BlobGcService);
    const identity = { sub: 'erin', bindings: [{ project: 'p1', role: 'editor' as const }, { project: 'p2', role: 'editor' as const }] };
    data = await platform.client(DataServiceDesc, service.grpcAddress, identity);
    blobs = await platform.client(BlobServiceDesc, service.grpcAddress, identity);
    admin = await platform.client(BlobServiceDesc, service.grpcAddress, { sub: 'ada', orgAdmin: true });
    owner = await platform.client(BlobServiceDesc, service.grpcAddress, { sub: 'otto', bindings: [{ project: 'p1', role: 'owner' }] });
  });

  afterAll(async () => {
    await auditSubscription?.stop();
    await platform?.stop();
    await storage?.close();
    await database?.cleanup();
  });

  it('frees blobs no live version names once their grace period is over, and reports what it freed', async () => {
    const datasetId = (await data.createDataset({ projectId: 'p1', name: 'gc' })).dataset!.id;
    const kept = [await upload(randomBytes(1000)), await upload(randomBytes(2000))];
    const orphan = await upload(randomBytes(3000));
    await commit(datasetId, kept, 'v1');

    expect(await gc.collect({ graceMs: GRACE })).toEqual([{ storeName: 'default', deletedBlobs: 0, freedBytes: 0, releasedHolds: 0, droppedUploads: 0, droppedIntakes: 0 }]);
    await age();
    expect(await gc.collect({ graceMs: GRACE })).toEqual([{ storeName: 'default', deletedBlobs: 1, freedBytes: 3000, releasedHolds: 1, droppedUploads: 0, droppedIntakes: 0 }]);
    expect(await stored(orphan.sha256)).toBe(false);
    expect((await blobs.findMissingBlobs({ projectId: 'p1', sha256s: [orphan.sha256, ...kept.map((blob) => blob.sha256)] })).missing).toEqual([orphan.sha256]);
    for (const blob of kept) expect(await stored(blob.sha256)).toBe(true);

    await data.deleteDatasetVersion({ datasetId, version: 1n });
    await age();
    expect(await gc.collect({ graceMs: GRACE })).toEqual([{ storeName: 'default', deletedBlobs: 2, freedBytes: 3000, releasedHolds: 2, droppedUploads: 0, droppedIntakes: 0 }]);
    for (const blob of kept) expect(await stored(blob.sha256)).toBe(false);
  });

  it.each([
    ['the service', () => gc.collect({ graceMs: GRACE })],
    ['an org admin through CollectGarbage', () => admin.collectGarbage({ graceSeconds: BigInt(GRACE / 1000) })],
  ])('loses nothing a commit running beside a collection by %s names: the commit keeps its blobs or fails with BLOBS_MISSING', async (by, collect) => {
    const datasetId = (await data.createDataset({ projectId: 'p1', name: `gc-race ${by}` })).dataset!.id;
    let committed = 0;
    for (let round = 0; round < 8; round++) {
      const files = await Promise.all(Array.from({ length: 20 }, () => upload(randomBytes(512))));
      await age();
      const [outcome, collected] = await Promise.allSettled([commit(datasetId, files, `r${round}`), collect()]);
      expect(collected.status).toBe('fulfilled');
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
    await collect();
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

    expect(await gc.collect({ graceMs: GRACE })).toEqual([{ storeName: 'default', deletedBlobs: 0, freedBytes: 0, releasedHolds: 1, droppedUploads: 0, droppedIntakes: 0 }]);
    expect((await blobs.findMissingBlobs({ projectId: 'p2', sha256s: [both.sha256, p2Only.sha256] })).missing).toEqual([both.sha256]);
    expect((await blobs.findMissingBlobs({ projectId: 'p1', sha256s: [both.sha256, p2Only.sha256] })).missing).toEqual([p2Only.sha256]);
    expect(await stored(both.sha256)).toBe(true);
    const released = await commit(p2Dataset, [both], 'h2').catch((error: ServiceError) => error);
    expect(statusDetailsOf((released as ServiceError).metadata)?.reason).toBe('BLOBS_MISSING');
  });

  it('deletes what a push that stopped mid-file left under blobs/intake once it is older than the grace (a dry run only counts it)', async () => {
    const key = `${INTAKE_PREFIX}${randomBytes(8).toString('hex')}`;
    await store.put(key, randomBytes(100));
    const intakes = (collected: Array<{ storeName: string; droppedIntakes: number }>) => collected.find((one) => one.storeName === 'default')?.droppedIntakes;

    expect(intakes(await gc.collect({ graceMs: GRACE }))).toBe(0);
    expect(await store.head(key)).toBeDefined();
    expect(intakes(await gc.collect({ graceMs: GRACE, now: Date.now() + 2 * GRACE, dryRun: true }))).toBe(1);
    expect(await store.head(key)).toBeDefined();
    expect(intakes(await gc.collect({ graceMs: GRACE, now: Date.now() + 2 * GRACE }))).toBe(1);
    expect(await store.head(key)).toBeUndefined();
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
    const swept = { actor: SERVICE_ACTOR, action: 'delete', method: COLLECT_GARBAGE, resource: 'garbageCollections/default: 0 blobs, 0 bytes, 0 holds, 1 uploads, 0 intakes' };
    await eventually(() => expect(audits.at(-1)).toEqual(swept));
    // A sweep that frees nothing leaves no record: the next record, which the outbox delivers after any it wrote, is the admin's.
    await service.app.get(BlobGcWorker).sweep();
    await admin.collectGarbage({ dryRun: true });
    await eventually(() => expect(audits.at(-1)?.actor).toBe('ada'));
    expect(audits.slice(-2)).toEqual([swept, expect.objectContaining({ actor: 'ada' })]);
  });

  describe('CollectGarbage', () => {
    const failure = (call: Promise<unknown>) => call.then(() => undefined, (error: ServiceError) => error);
    /** A dataset of p1 whose one version names new blobs of these sizes, then deleted: the blobs are unreferenced from now on. */
    const unreferenced = async (name: string, sizes: number[]) => {
      const datasetId = (await data.createDataset({ projectId: 'p1', name })).dataset!.id;
      const files = [];
      for (const size of sizes) files.push(await upload(randomBytes(size)));
      await commit(datasetId, files, name);
      await data.deleteDatasetVersion({ datasetId, version: 1n });
      return files;
    };

    beforeEach(async () => {
      // What earlier specs left unreferenced goes first, so each answer counts only its own spec's blobs.
      await age();
      await gc.collect({ graceMs: GRACE });
    });

    it("frees exactly the blobs a deleted version named once the grace is over, answers what it freed, and audits it as the admin's", async () => {
      const files = await unreferenced('gc-rpc', [1234, 4321]);
      expect((await admin.collectGarbage({ graceSeconds: BigInt(GRACE / 1000) })).instances).toMatchObject([{ storeName: 'default', deletedBlobs: 0n, freedBytes: 0n }]);
      await age();
      const answer = await admin.collectGarbage({ graceSeconds: BigInt(GRACE / 1000) });
      expect(answer.instances).toEqual([expect.objectContaining({ storeName: 'default', deletedBlobs: 2n, freedBytes: 5555n, releasedHolds: 2n, droppedUploads: 0n, droppedIntakes: 0n })]);
      expect(answer.dryRun).toBe(false);
      for (const file of files) expect(await stored(file.sha256)).toBe(false);
      await eventually(() =>
        expect(audits.filter((audit) => audit.actor === 'ada')).toEqual(
          expect.arrayContaining([{ actor: 'ada', action: 'delete', method: COLLECT_GARBAGE, resource: 'garbageCollections/default: 2 blobs, 5555 bytes, 2 holds, 0 uploads, 0 intakes' }]),
        ),
      );
    });

    it('reports in a dry run what the collection would free and deletes nothing', async () => {
      const files = await unreferenced('gc-dry', [700, 300]);
      await age();
      const dry = await admin.collectGarbage({ dryRun: true, graceSeconds: BigInt(GRACE / 1000) });
      expect(dry.instances).toEqual([expect.objectContaining({ storeName: 'default', deletedBlobs: 2n, freedBytes: 1000n, releasedHolds: 2n })]);
      expect(dry.dryRun).toBe(true);
      for (const file of files) expect(await stored(file.sha256)).toBe(true);
      expect((await blobs.findMissingBlobs({ projectId: 'p1', sha256s: files.map((file) => file.sha256) })).missing).toEqual([]);
      await eventually(() =>
        expect(audits).toEqual(expect.arrayContaining([{ actor: 'ada', action: 'read', method: COLLECT_GARBAGE, resource: 'garbageCollections/dry run, default: 2 blobs, 1000 bytes, 2 holds, 0 uploads, 0 intakes' }])),
      );

      const real = await admin.collectGarbage({ graceSeconds: BigInt(GRACE / 1000) });
      expect(real.instances).toEqual(dry.instances);
      for (const file of files) expect(await stored(file.sha256)).toBe(false);
    });

    it('refuses anyone but an org admin, even a project owner, and frees nothing for them', async () => {
      const files = await unreferenced('gc-denied', [512]);
      await age();
      const refused = await failure(owner.collectGarbage({ graceSeconds: BigInt(GRACE / 1000) }));
      expect(refused?.code).toBe(status.PERMISSION_DENIED);
      expect(statusDetailsOf(refused!.metadata)?.reason).toBe('ORG_ADMIN_REQUIRED');
      expect(await stored(files[0].sha256)).toBe(true);
    });

    it('refuses a grace under an hour, naming the field', async () => {
      const refused = await failure(admin.collectGarbage({ graceSeconds: 59n }));
      expect(refused?.code).toBe(status.INVALID_ARGUMENT);
      expect(refused?.details).toContain('grace_seconds');
    });

    it('answers ABORTED (GARBAGE_COLLECTION_RUNNING) while another collection holds the lock, and runs once it is given back', async () => {
      const unlock = (await service.app.get(BlobGcRepository).tryLock())!;
      const refused = await failure(admin.collectGarbage({}));
      await unlock();
      expect(refused?.code).toBe(status.ABORTED);
      expect(statusDetailsOf(refused!.metadata)?.reason).toBe('GARBAGE_COLLECTION_RUNNING');
      await expect(gc.collect({ graceMs: GRACE })).resolves.toHaveLength(1);
    });

    // SQLite has one process, whose lock the spec above holds.
    (databaseName === 'PostgreSQL' ? it : it.skip)('answers ABORTED while a collection of another replica holds the lock', async () => {
      const replica = new PgClient({ connectionString: database.env.TRELLIS_DATA_DATABASE_URL });
      await replica.connect();
      try {
        await replica.query('SELECT pg_advisory_lock(hashtext($1))', [GC_LOCK_NAME]);
        expect((await failure(admin.collectGarbage({})))?.code).toBe(status.ABORTED);
        await replica.query('SELECT pg_advisory_unlock(hashtext($1))', [GC_LOCK_NAME]);
        await expect(admin.collectGarbage({})).resolves.toMatchObject({ dryRun: false });
      } finally {
        await replica.end();
      }
    });
  });
});

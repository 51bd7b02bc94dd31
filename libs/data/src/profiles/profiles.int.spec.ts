import { status, type ServiceError } from '@grpc/grpc-js';
import type { GrpcClient, RunningService } from '@trellis/platform';
import { MemoryDriftDetector } from '@trellis/plugin-sdk/testing';
import { TestPlatform } from '@trellis/platform/testing';
import { DataServiceDesc } from '@trellis/proto';
import { ColumnType, ProfileService, ProfileStatus, TabularFormat, type ColumnProfile } from '@trellis/proto/trellis/data/v1/profile_service_pb';
import { eventually, serviceDatabases, type ServiceDatabase } from '@trellis/testing';
import { createHash } from 'node:crypto';
import { blobKey, BlobStore } from '../blobs/blob-store';
import { BlobRepository } from '../blobs/blob.repository';
import { startTestStorage, type TestStorage } from '../blobs/test-storage';
import { dataService } from '../data.definition';
import { BlobProfileEntity } from './profile.entity';
import { ProfileRepository } from './profile.repository';
import { ProfileWorker } from './profile.worker';
import { DataSource } from 'typeorm';

const failure = async (call: Promise<unknown>) => (await call.then(() => undefined, (error: unknown) => error)) as ServiceError | undefined;

/** The summaries of a column as the drift contract takes them, from the proto's messages. */
function quantilesOf(column: ColumnProfile) {
  const q = column.quantiles!;
  return { type: 'numeric' as const, summary: 'quantiles' as const, count: Number(q.count), missing: Number(q.missing), quantiles: q.quantiles.map(({ p, value }) => ({ p, value })) };
}

describe.each(serviceDatabases('data'))('dataset profiles (%s)', (_database, databaseFor) => {
  let database: ServiceDatabase;
  let platform: TestPlatform;
  let storage: TestStorage;
  let service: RunningService;
  let editor: GrpcClient<(typeof DataServiceDesc)['method']>;
  let profiles: GrpcClient<(typeof ProfileService)['method']>;
  let outsider: GrpcClient<(typeof ProfileService)['method']>;

  beforeAll(async () => {
    database = await databaseFor();
    storage = await startTestStorage();
    platform = await TestPlatform.start({ ...database.env, ...storage.env }, { plugins: storage.plugins });
    service = await platform.startService(dataService);
    editor = await platform.client(DataServiceDesc, service.grpcAddress, { sub: 'erin', bindings: [{ project: 'pp', role: 'editor' }] });
    profiles = await platform.client(ProfileService, service.grpcAddress, { sub: 'vic', bindings: [{ project: 'pp', role: 'viewer' }] });
    outsider = await platform.client(ProfileService, service.grpcAddress, { sub: 'oscar', bindings: [{ project: 'other', role: 'owner' }] });
  });

  afterAll(async () => {
    await platform?.stop();
    await storage?.close();
    await database?.cleanup();
  });

  /** A file whose bytes are stored as a blob of the project's storage instance. */
  const stored = async (path: string, content: string) => {
    const sha256 = createHash('sha256').update(content).digest('hex');
    const blobStore = service.app.get(BlobStore);
    const storeName = await blobStore.storeNameFor('pp');
    await (await blobStore.open(storeName)).put(blobKey(sha256), Buffer.from(content));
    const blobs = service.app.get(BlobRepository);
    await blobs.transaction((tx) => blobs.record(tx, 'pp', storeName, sha256, content.length, Date.now()));
    return { path, sizeBytes: BigInt(content.length), sha256, mediaType: '' };
  };

  it('profiles the tabular files of a committed version in the background and serves them with their status', async () => {
    const datasetId = (await editor.createDataset({ projectId: 'pp', name: 'iris' })).dataset!.id;
    const rows = ['length,species'];
    for (let i = 0; i < 200; i++) rows.push(`${(i % 50) / 10},${['setosa', 'versicolor', 'virginica'][i % 3]}`);
    const files = [
      await stored('train.csv', `${rows.join('\n')}\n`),
      await stored('extra/rows.jsonl', '{"a": 1}\n{"a": 2}\n'),
      await stored('broken.parquet', 'not parquet'),
      await stored('README.md', '# iris'),
    ];
    await editor.commitDatasetVersion([
      { part: { case: 'header', value: { datasetId, message: 'first' } } },
      { part: { case: 'changes', value: { put: files } } },
    ]);

    const answer = await eventually(async () => {
      const page = await profiles.getVersionProfile({ datasetId, version: 1n });
      expect(page.status).not.toBe(ProfileStatus.PENDING);
      return page;
    });
    // One tabular file failed, so the version is FAILED; its counts say how many of each.
    expect(answer).toMatchObject({ status: ProfileStatus.FAILED, tabularFiles: 3n, readyFiles: 2n, failedFiles: 1n });
    const byPath = new Map(answer.files.map((f) => [f.path, f]));
    expect([...byPath.keys()]).toEqual(['README.md', 'broken.parquet', 'extra/rows.jsonl', 'train.csv']);
    expect(byPath.get('README.md')).toMatchObject({ status: ProfileStatus.SKIPPED, columns: [] });
    expect(byPath.get('broken.parquet')).toMatchObject({ status: ProfileStatus.FAILED, format: TabularFormat.PARQUET });
    expect(byPath.get('broken.parquet')?.message).toMatch(/cannot read the parquet file/);
    expect(byPath.get('extra/rows.jsonl')).toMatchObject({ status: ProfileStatus.READY, format: TabularFormat.JSONL, rows: 2n });

    const train = byPath.get('train.csv')!;
    expect(train).toMatchObject({ status: ProfileStatus.READY, format: TabularFormat.CSV, rows: 200n, invalidRows: 0n });
    const [length, species] = train.columns;
    expect(length).toMatchObject({ name: 'length', type: ColumnType.FLOAT, count: 200n, missing: 0n, min: 0, max: 4.9 });
    expect(length.quantiles?.quantiles).toHaveLength(101);
    expect(length.histogram?.counts.reduce((a, b) => a + b, 0n)).toBe(200n);
    expect(species).toMatchObject({ name: 'species', type: ColumnType.STRING, minText: 'setosa', maxText: 'virginica' });
    expect(species.categories?.counts.map(({ value, count }) => [value, count])).toEqual([
      ['setosa', 67n],
      ['versicolor', 67n],
      ['virginica', 66n],
    ]);

    // What monitoring does with it: the served quantiles are a reference a detector fits as they are.
    const ks = new MemoryDriftDetector('ks');
    const reference = await ks.fit(quantilesOf(length));
    const same = Array.from({ length: 200 }, (_, i) => (i % 50) / 10);
    expect((await ks.score(reference, { type: 'numeric', values: same })).drifted).toBe(false);
    expect((await ks.score(reference, { type: 'numeric', values: same.map((v) => v + 3) })).drifted).toBe(true);
  });

  it('profiles a blob once: a child version that keeps a file shows its profile at once', async () => {
    const datasetId = (await editor.createDataset({ projectId: 'pp', name: 'kept' })).dataset!.id;
    const file = await stored('t.csv', 'x\n1\n2\n');
    await editor.commitDatasetVersion([
      { part: { case: 'header', value: { datasetId } } },
      { part: { case: 'changes', value: { put: [file] } } },
    ]);
    await eventually(async () => expect((await profiles.getVersionProfile({ datasetId, version: 1n })).files[0].status).toBe(ProfileStatus.READY));
    await editor.commitDatasetVersion([
      { part: { case: 'header', value: { datasetId, parentVersion: 1n } } },
      { part: { case: 'changes', value: { put: [await stored('other.txt', 'x')] } } },
    ]);
    const child = await profiles.getVersionProfile({ datasetId, version: 2n });
    expect(child).toMatchObject({ status: ProfileStatus.READY, tabularFiles: 1n, readyFiles: 1n, failedFiles: 0n });
    expect(child.files.map((f) => [f.path, f.status])).toEqual([
      ['other.txt', ProfileStatus.SKIPPED],
      ['t.csv', ProfileStatus.READY],
    ]);
  });

  it('gives up on a file whose attempts never finished (the process went down), marking it failed', async () => {
    const repository = service.app.get(ProfileRepository);
    const sha256 = 'f'.repeat(64);
    const dataSource = service.app.get(DataSource);
    // Queued with its attempts spent in one transaction, so the worker never sees it with attempts left.
    await dataSource.transaction(async (tx) => {
      await repository.enqueue(tx, [{ sha256, format: 'csv', storeName: 'default' }], Date.now());
      await tx.getRepository(BlobProfileEntity).update({ sha256, format: 'csv' }, { attempts: 3 });
    });
    service.app.get(ProfileWorker).wake();
    const row = await eventually(async () => {
      const found = (await repository.find([{ sha256, format: 'csv' }])).get(`${sha256}/csv`);
      expect(found?.status).toBe('failed');
      return found;
    });
    expect(row?.message).toBe('gave up after 3 attempts that did not finish');
  });

  it('refuses a bad request naming the field, hides other projects\' versions, and calls a version without tabular files SKIPPED', async () => {
    const datasetId = (await editor.createDataset({ projectId: 'pp', name: 'hidden' })).dataset!.id;
    await editor.commitDatasetVersion([
      { part: { case: 'header', value: { datasetId } } },
      { part: { case: 'changes', value: { put: [await stored('a.csv', 'a\n1\n')] } } },
    ]);
    expect(await failure(profiles.getVersionProfile({ datasetId: '', version: 1n }))).toMatchObject({ code: status.INVALID_ARGUMENT });
    const readme = (await editor.createDataset({ projectId: 'pp', name: 'docs-only' })).dataset!.id;
    await editor.commitDatasetVersion([
      { part: { case: 'header', value: { datasetId: readme } } },
      { part: { case: 'changes', value: { put: [await stored('README.md', '# docs')] } } },
    ]);
    expect(await profiles.getVersionProfile({ datasetId: readme, version: 1n })).toMatchObject({ status: ProfileStatus.SKIPPED, tabularFiles: 0n });
    expect((await failure(profiles.getVersionProfile({ datasetId, version: 1n, pageSize: 101 })))?.details).toMatch(/page_size/);
    expect(await failure(profiles.getVersionProfile({ datasetId, version: 9n }))).toMatchObject({ code: status.NOT_FOUND });
    expect(await failure(outsider.getVersionProfile({ datasetId, version: 1n }))).toMatchObject({ code: status.NOT_FOUND });
  });
});

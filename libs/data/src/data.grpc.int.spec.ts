import { fromBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { status, type ServiceError } from '@grpc/grpc-js';
import { callEveryMethodWithoutToken, type EventSubscription, type GrpcClient, type RunningService } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import { AuditEventSchema, DataServiceDesc, DatasetCreatedEventSchema, DatasetDeletedEventSchema } from '@trellis/proto';
import type { CommitDatasetVersionRequestSchema } from '@trellis/proto/trellis/data/v1/data_service_pb';
import { DatasetVersionCommittedEventSchema, DatasetVersionDeletedEventSchema } from '@trellis/proto/trellis/data/v1/events_pb';
import { FileChangeKind } from '@trellis/proto/trellis/data/v1/resources_pb';
import { createHash } from 'node:crypto';
import { BlobRepository } from './blobs/blob.repository';
import { BlobStore } from './blobs/blob-store';
import { VersionRepository } from './versions/version.repository';
import { eventually, serviceDatabases, type ServiceDatabase } from '@trellis/testing';
import { startTestStorage, type TestStorage } from './blobs/test-storage';
import { dataService } from './data.definition';

type Client = GrpcClient<(typeof DataServiceDesc)['method']>;
type Role = 'viewer' | 'editor' | 'admin' | 'owner';

const failure = async (call: Promise<unknown>) => (await call.then(() => undefined, (error: unknown) => error)) as ServiceError | undefined;

/** The quota the spec sets: above what the other tests keep in p1, small enough to reach in the quota project. */
const QUOTA = 10;

describe.each(serviceDatabases('data'))('data through gRPC (%s)', (_database, databaseFor) => {
  let database: ServiceDatabase;
  let platform: TestPlatform;
  let storage: TestStorage;
  let service: RunningService;
  let subscription: EventSubscription;
  let editor: Client;
  let viewer: Client;
  let outsider: Client;
  const events: Array<{ subject: string; id: string }> = [];
  const versionEvents: Array<{ subject: string; datasetId: string; version: bigint; fileCount: bigint; totalBytes: bigint; storageInstance: string }> = [];
  let versionSubscription: EventSubscription;
  const audits: Array<{ method: string; resource: string; actor: string }> = [];
  let auditSubscription: EventSubscription;

  const clientFor = (sub: string, bindings: Array<{ project: string; role: Role }>) => platform.client(DataServiceDesc, service.grpcAddress, { sub, bindings });

  beforeAll(async () => {
    database = await databaseFor();
    storage = await startTestStorage();
    platform = await TestPlatform.start({ ...database.env, ...storage.env, TRELLIS_DATA_MAX_DATASETS_PER_PROJECT: String(QUOTA) }, { plugins: storage.plugins });
    subscription = await platform.runtime.bus.subscribe({
      durable: 'data-spec',
      subject: 'trellis.data.v1.dataset.*',
      handler: async (envelope) => {
        const schema = envelope.subject.endsWith('.created') ? DatasetCreatedEventSchema : DatasetDeletedEventSchema;
        events.push({ subject: envelope.subject, id: fromBinary(schema, envelope.payload).dataset?.id ?? '' });
      },
    });
    versionSubscription = await platform.runtime.bus.subscribe({
      durable: 'data-spec-versions',
      subject: 'trellis.data.v1.version.*',
      handler: async (envelope) => {
        const schema = envelope.subject.endsWith('.committed') ? DatasetVersionCommittedEventSchema : DatasetVersionDeletedEventSchema;
        const { datasetId, version, fileCount, totalBytes, storageInstance } = fromBinary(schema, envelope.payload).version!;
        versionEvents.push({ subject: envelope.subject, datasetId, version, fileCount, totalBytes, storageInstance });
      },
    });
    auditSubscription = await platform.runtime.bus.subscribe({
      durable: 'data-spec-audit',
      subject: 'trellis.data.v1.audit.recorded',
      handler: async (envelope) => {
        const { method, resource, actor } = fromBinary(AuditEventSchema, envelope.payload);
        audits.push({ method, resource, actor });
      },
    });
    service = await platform.startService(dataService);
    editor = await clientFor('erin', [{ project: 'p1', role: 'editor' }, { project: 'quota', role: 'editor' }, { project: 'pv', role: 'editor' }]);
    viewer = await clientFor('vic', [{ project: 'p1', role: 'viewer' }, { project: 'pv', role: 'viewer' }]);
    outsider = await clientFor('oscar', [{ project: 'p2', role: 'owner' }]);
  });

  afterAll(async () => {
    await subscription?.stop();
    await versionSubscription?.stop();
    await auditSubscription?.stop();
    await platform?.stop();
    await storage?.close();
    await database?.cleanup();
  });

  it('answers UNAUTHENTICATED on every method without a token', async () => {
    const results = await callEveryMethodWithoutToken(dataService.grpcServices, service.grpcAddress);
    expect(results.filter((result) => result.code !== status.UNAUTHENTICATED)).toEqual([]);
  });

  it('creates, gets, lists, updates and deletes a dataset, with an event for each creation and deletion', async () => {
    const created = (await editor.createDataset({ projectId: 'p1', name: 'first', description: 'one' })).dataset!;
    expect(created).toMatchObject({ projectId: 'p1', name: 'first', description: 'one', creatorId: 'erin' });
    expect(created.id).not.toBe('');
    expect(created.createTime).toBeDefined();

    expect((await viewer.getDataset({ datasetId: created.id })).dataset).toMatchObject({ id: created.id, name: 'first' });
    expect((await viewer.listDatasets({ projectId: 'p1' })).datasets.map(({ name }) => name)).toContain('first');

    const updated = (await editor.updateDataset({ dataset: { id: created.id, name: 'ignored', description: 'two' }, updateMask: { paths: ['description'] } })).dataset!;
    expect(updated).toMatchObject({ name: 'first', description: 'two' });
    expect((await viewer.getDataset({ datasetId: created.id })).dataset?.description).toBe('two');

    await editor.deleteDataset({ datasetId: created.id });
    expect((await failure(viewer.getDataset({ datasetId: created.id })))?.code).toBe(status.NOT_FOUND);
    expect((await failure(editor.deleteDataset({ datasetId: created.id })))?.code).toBe(status.NOT_FOUND);
    await eventually(() =>
      expect(events.filter((event) => event.id === created.id)).toEqual([
        { subject: 'trellis.data.v1.dataset.created', id: created.id },
        { subject: 'trellis.data.v1.dataset.deleted', id: created.id },
      ]),
    );
  });

  it('pages through a project\'s datasets in name order', async () => {
    for (const name of ['page-c', 'page-a', 'page-b']) await editor.createDataset({ projectId: 'p1', name });
    const first = await viewer.listDatasets({ projectId: 'p1', pageSize: 2 });
    const second = await viewer.listDatasets({ projectId: 'p1', pageSize: 2, pageToken: first.nextPageToken });
    expect([...first.datasets, ...second.datasets].map(({ name }) => name).filter((name) => name.startsWith('page-'))).toEqual(['page-a', 'page-b', 'page-c']);
    expect(second.nextPageToken).toBe('');
    expect((await failure(viewer.listDatasets({ projectId: 'p1', pageToken: 'made-up' })))?.code).toBe(status.INVALID_ARGUMENT);
  });

  it('refuses a taken name, a missing name and an update without a mask, naming the field', async () => {
    const taken = (await editor.createDataset({ projectId: 'p1', name: 'taken' })).dataset!;
    expect((await failure(editor.createDataset({ projectId: 'p1', name: 'taken' })))?.code).toBe(status.ALREADY_EXISTS);
    const unnamed = await failure(editor.createDataset({ projectId: 'p1', name: '' }));
    expect(unnamed?.code).toBe(status.INVALID_ARGUMENT);
    expect(unnamed?.details).toContain('name');
    const unmasked = await failure(editor.updateDataset({ dataset: { id: taken.id, description: 'x' } }));
    expect(unmasked?.code).toBe(status.INVALID_ARGUMENT);
    expect(unmasked?.details).toContain('update_mask');
  });

  it('keeps a dataset\'s tags, replaces them through the mask, and refuses a repeated key naming it', async () => {
    const tagged = (await editor.createDataset({ projectId: 'p1', name: 'with-tags', tags: [{ key: 'team', value: 'growth' }] })).dataset!;
    expect(tagged.tags.map(({ key, value }) => ({ key, value }))).toEqual([{ key: 'team', value: 'growth' }]);
    const updated = (await editor.updateDataset({ dataset: { id: tagged.id, tags: [{ key: 'stage', value: 'raw' }] }, updateMask: { paths: ['tags'] } })).dataset!;
    expect(updated.tags.map(({ key }) => key)).toEqual(['stage']);
    const repeated = await failure(editor.updateDataset({ dataset: { id: tagged.id, tags: [{ key: 'a' }, { key: 'a' }] }, updateMask: { paths: ['tags'] } }));
    expect(repeated?.code).toBe(status.INVALID_ARGUMENT);
    expect(repeated?.details).toContain('dataset.tags[1].key');
    await editor.deleteDataset({ datasetId: tagged.id });
  });

  it('lets a viewer read but not write, and shows an outsider nothing of the project', async () => {
    const dataset = (await editor.createDataset({ projectId: 'p1', name: 'guarded' })).dataset!;
    expect((await failure(viewer.createDataset({ projectId: 'p1', name: 'mine' })))?.code).toBe(status.PERMISSION_DENIED);
    expect((await failure(viewer.updateDataset({ dataset: { id: dataset.id, description: 'x' }, updateMask: { paths: ['description'] } })))?.code).toBe(status.PERMISSION_DENIED);
    expect((await failure(viewer.deleteDataset({ datasetId: dataset.id })))?.code).toBe(status.PERMISSION_DENIED);
    // Another project's datasets look missing, so their ids tell an outsider nothing.
    expect((await failure(outsider.getDataset({ datasetId: dataset.id })))?.code).toBe(status.NOT_FOUND);
    expect((await failure(outsider.deleteDataset({ datasetId: dataset.id })))?.code).toBe(status.NOT_FOUND);
    expect((await failure(outsider.listDatasets({ projectId: 'p1' })))?.code).toBe(status.PERMISSION_DENIED);
  });

  it('holds a project to services.data.maxDatasetsPerProject', async () => {
    for (let i = 0; i < QUOTA; i++) await editor.createDataset({ projectId: 'quota', name: `quota-${i}` });
    const refused = await failure(editor.createDataset({ projectId: 'quota', name: 'one-too-many' }));
    expect(refused?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(refused?.details).toContain('maxDatasetsPerProject');
  });

  describe('versions', () => {
    /** A file of `content`, its blob recorded as stored in the project's storage instance. */
    const stored = async (path: string, content: string, projectId = 'pv') => {
      const sha256 = createHash('sha256').update(content).digest('hex');
      const blobs = service.app.get(BlobRepository);
      const storeName = await service.app.get(BlobStore).storeNameFor(projectId);
      await blobs.transaction((tx) => blobs.record(tx, projectId, storeName, sha256, content.length, Date.now()));
      return { path, sizeBytes: BigInt(content.length), sha256, mediaType: 'text/plain' };
    };
    const unstored = (path: string, content: string) => ({ path, sizeBytes: BigInt(content.length), sha256: createHash('sha256').update(content).digest('hex'), mediaType: '' });
    type File = Awaited<ReturnType<typeof stored>>;
    type Header = { datasetId: string; parentVersion?: bigint; message?: string; fullManifest?: boolean; tags?: string[] };
    const commit = (client: Client, header: Header, put: File[] = [], removedPaths: string[] = [], batch = 1000) => {
      const messages: MessageInitShape<typeof CommitDatasetVersionRequestSchema>[] = [{ part: { case: 'header', value: header } }];
      for (let i = 0; i < Math.max(put.length, removedPaths.length); i += batch) {
        messages.push({ part: { case: 'changes', value: { put: put.slice(i, i + batch), removedPaths: removedPaths.slice(i, i + batch) } } });
      }
      return client.commitDatasetVersion(messages);
    };
    const allFiles = async (datasetId: string, version: bigint, pathPrefix = '', pageSize = 0) => {
      const files: string[] = [];
      let pageToken = '';
      do {
        const page = await viewer.listDatasetVersionFiles({ datasetId, version, pathPrefix, pageSize, pageToken });
        files.push(...page.files.map((file) => file.path));
        pageToken = page.nextPageToken;
      } while (pageToken);
      return files;
    };
    const newDataset = async (name: string) => (await editor.createDataset({ projectId: 'pv', name })).dataset!.id;

    it('commits a manifest, lists its files by prefix and page, and resolves it by number and tag', async () => {
      const datasetId = await newDataset('iris');
      const files = await Promise.all(['train/a.csv', 'train/b.csv', 'test/c.csv', 'README'].map((path) => stored(path, `content of ${path}`)));
      const version = (await commit(editor, { datasetId, message: 'first', tags: ['golden'] }, files)).version!;
      expect(version).toMatchObject({ datasetId, projectId: 'pv', datasetName: 'iris', version: 1n, parentVersion: 0n, message: 'first', authorId: 'erin', fileCount: 4n, tags: ['golden'], reference: 'datasets:/iris/1' });
      expect(version.totalBytes).toBe(BigInt(files.reduce((sum, file) => sum + Number(file.sizeBytes), 0)));
      expect(version.storageInstance).toBe(await service.app.get(BlobStore).storeNameFor('pv'));

      expect(await allFiles(datasetId, 1n, '', 1)).toEqual(['README', 'test/c.csv', 'train/a.csv', 'train/b.csv']);
      expect(await allFiles(datasetId, 1n, 'train/')).toEqual(['train/a.csv', 'train/b.csv']);
      const [file] = (await viewer.listDatasetVersionFiles({ datasetId, version: 1n, pathPrefix: 'README' })).files;
      expect(file).toMatchObject({ path: 'README', sha256: files[3].sha256, sizeBytes: files[3].sizeBytes, mediaType: 'text/plain' });

      expect((await viewer.resolveDatasetReference({ projectId: 'pv', reference: 'datasets:/iris/1' })).version?.version).toBe(1n);
      expect((await viewer.resolveDatasetReference({ projectId: 'pv', reference: 'datasets:/iris@golden' })).version?.version).toBe(1n);
      expect((await viewer.getDatasetVersion({ datasetId, version: 1n })).version?.tags).toEqual(['golden']);
      expect((await viewer.getDataset({ datasetId })).dataset?.latestVersion).toBe(1n);
      await eventually(() =>
        expect(versionEvents.filter((event) => event.datasetId === datasetId)).toEqual([
          { subject: 'trellis.data.v1.version.committed', datasetId, version: 1n, fileCount: 4n, totalBytes: version.totalBytes, storageInstance: version.storageInstance },
        ]),
      );
    });

    it('commits changes on a parent and diffs two versions: added, removed and changed paths with sizes, paged', async () => {
      const datasetId = await newDataset('diffed');
      const base = await Promise.all(['a', 'b', 'c', 'd'].map((path) => stored(path, `v1 ${path}`)));
      await commit(editor, { datasetId }, base);
      const changes = [await stored('b', 'v2 b, longer'), await stored('e', 'v2 e')];
      const second = (await commit(editor, { datasetId, parentVersion: 1n, message: 'change b, add e, drop c' }, changes, ['c'])).version!;
      expect(second).toMatchObject({ version: 2n, parentVersion: 1n, fileCount: 4n });
      expect(await allFiles(datasetId, 2n)).toEqual(['a', 'b', 'd', 'e']);

      const first = await viewer.diffDatasetVersions({ datasetId, fromVersion: 1n, toVersion: 2n, pageSize: 2 });
      const rest = await viewer.diffDatasetVersions({ datasetId, fromVersion: 1n, toVersion: 2n, pageSize: 2, pageToken: first.nextPageToken });
      expect(rest.nextPageToken).toBe('');
      expect([...first.changes, ...rest.changes].map(({ path, kind, fromSizeBytes, toSizeBytes }) => ({ path, kind, fromSizeBytes, toSizeBytes }))).toEqual([
        { path: 'b', kind: FileChangeKind.CHANGED, fromSizeBytes: 4n, toSizeBytes: 12n },
        { path: 'c', kind: FileChangeKind.REMOVED, fromSizeBytes: 4n, toSizeBytes: 0n },
        { path: 'e', kind: FileChangeKind.ADDED, fromSizeBytes: 0n, toSizeBytes: 4n },
      ]);
      expect((await viewer.diffDatasetVersions({ datasetId, fromVersion: 0n, toVersion: 1n })).changes.map(({ kind }) => kind)).toEqual(Array(4).fill(FileChangeKind.ADDED));
      // A full manifest replaces the parent's files; the parent stays its lineage.
      const full = (await commit(editor, { datasetId, parentVersion: 2n, fullManifest: true }, [changes[1]])).version!;
      expect(full).toMatchObject({ version: 3n, parentVersion: 2n, fileCount: 1n });
      expect((await viewer.listDatasetVersions({ datasetId, pageSize: 2 })).versions.map(({ version }) => version)).toEqual([3n, 2n]);
    });

    it('refuses a commit whose blobs are not stored, naming them, and stores nothing', async () => {
      const datasetId = await newDataset('unstored');
      const missing = unstored('x.bin', 'never uploaded');
      const refused = await failure(commit(editor, { datasetId }, [await stored('ok', 'ok'), missing]));
      expect(refused?.code).toBe(status.FAILED_PRECONDITION);
      expect(refused?.details).toContain(missing.sha256);
      expect((refused as { reason?: string })?.reason).toBe('BLOBS_MISSING');
      expect((await viewer.listDatasetVersions({ datasetId })).versions).toEqual([]);
    });

    it('refuses malformed commits with a message naming the field', async () => {
      const datasetId = await newDataset('malformed');
      const file = await stored('f', 'f');
      const cases: Array<[Promise<unknown>, number, string]> = [
        [editor.commitDatasetVersion([{ part: { case: 'changes', value: { put: [file] } } }]), status.INVALID_ARGUMENT, 'header'],
        [commit(editor, { datasetId }, [{ ...file, path: '../escape' }]), status.INVALID_ARGUMENT, 'put[0].path'],
        [commit(editor, { datasetId }, [{ ...file, path: '/abs' }]), status.INVALID_ARGUMENT, 'put[0].path'],
        [commit(editor, { datasetId }, [{ ...file, sha256: 'xyz' }]), status.INVALID_ARGUMENT, 'put[0].sha256'],
        [commit(editor, { datasetId }, [file, file]), status.INVALID_ARGUMENT, 'put[1].path'],
        [commit(editor, { datasetId, parentVersion: 7n }, [file]), status.NOT_FOUND, 'no version 7'],
        [commit(editor, { datasetId: 'nope' }, [file]), status.NOT_FOUND, 'dataset nope'],
      ];
      for (const [call, code, named] of cases) {
        const error = await failure(call);
        expect({ code: error?.code, named: error?.details.includes(named) }).toEqual({ code, named: true });
      }
      await commit(editor, { datasetId }, [file]);
      const notHeld = await failure(commit(editor, { datasetId, parentVersion: 1n }, [], ['not-there']));
      expect(notHeld?.code).toBe(status.INVALID_ARGUMENT);
      expect(notHeld?.details).toContain('removed_paths');
      const badReference = await failure(viewer.resolveDatasetReference({ projectId: 'pv', reference: 'malformed' }));
      expect(badReference?.code).toBe(status.INVALID_ARGUMENT);
      expect(badReference?.details).toContain('datasets:/<name>/<version>');
    });

    it('commits two changes on the same parent at once as siblings, and a reader never sees half a version', async () => {
      const datasetId = await newDataset('raced');
      const many = await Promise.all(Array.from({ length: 3000 }, (_, i) => stored(`part/${String(i).padStart(5, '0')}`, `row ${i}`)));
      await commit(editor, { datasetId }, many.slice(0, 10));
      let reading = true;
      const seen: Array<{ version: bigint; fileCount: bigint; listed: number }> = [];
      const reader = (async () => {
        while (reading) {
          for (const version of (await viewer.listDatasetVersions({ datasetId })).versions) {
            seen.push({ version: version.version, fileCount: version.fileCount, listed: (await allFiles(datasetId, version.version, '', 1000)).length });
          }
        }
      })();
      const [left, right] = await Promise.all([
        commit(editor, { datasetId, parentVersion: 1n, message: 'left' }, many.slice(10, 3000)),
        commit(editor, { datasetId, parentVersion: 1n, message: 'right' }, many.slice(10, 1500)),
      ]);
      reading = false;
      await reader;
      expect([left.version!.version, right.version!.version].sort()).toEqual([2n, 3n]);
      expect([left.version!.parentVersion, right.version!.parentVersion]).toEqual([1n, 1n]);
      expect(left.version!.fileCount).toBe(3000n);
      expect(right.version!.fileCount).toBe(1500n);
      // Each version a reader saw was whole: every file its count promises was listed.
      expect(seen.filter(({ fileCount, listed }) => BigInt(listed) !== fileCount)).toEqual([]);
    });

    it('moves a tag only when asked, removes tags, and resolves a tag to where it points now', async () => {
      const datasetId = await newDataset('tagged');
      const file = await stored('t', 't');
      await commit(editor, { datasetId, tags: ['v1.0'] }, [file]);
      await commit(editor, { datasetId, parentVersion: 1n }, [await stored('u', 'u')]);
      const taken = await failure(editor.setDatasetVersionTag({ datasetId, version: 2n, tag: 'v1.0' }));
      expect(taken?.code).toBe(status.FAILED_PRECONDITION);
      expect(taken?.details).toContain('names version 1');
      expect((await editor.setDatasetVersionTag({ datasetId, version: 2n, tag: 'v1.0', move: true })).version?.tags).toEqual(['v1.0']);
      expect((await viewer.resolveDatasetReference({ projectId: 'pv', reference: 'datasets:/tagged@v1.0' })).version?.version).toBe(2n);
      expect((await viewer.getDatasetVersion({ datasetId, version: 1n })).version?.tags).toEqual([]);
      expect((await failure(editor.setDatasetVersionTag({ datasetId, version: 2n, tag: '12' })))?.code).toBe(status.INVALID_ARGUMENT);
      await editor.deleteDatasetVersionTag({ datasetId, tag: 'v1.0' });
      expect((await failure(viewer.resolveDatasetReference({ projectId: 'pv', reference: 'datasets:/tagged@v1.0' })))?.code).toBe(status.NOT_FOUND);
      expect((await failure(editor.deleteDatasetVersionTag({ datasetId, tag: 'v1.0' })))?.code).toBe(status.NOT_FOUND);
    });

    it('marks deleted versions and datasets: no longer listed or resolvable, numbers never reused, digests no longer live', async () => {
      const datasetId = await newDataset('doomed');
      const kept = await stored('kept', 'kept');
      const dropped = await stored('dropped', 'dropped only by doomed/2');
      await commit(editor, { datasetId, tags: ['old'] }, [kept]);
      await commit(editor, { datasetId, parentVersion: 1n }, [dropped]);
      const repository = service.app.get(VersionRepository);
      const storeName = await service.app.get(BlobStore).storeNameFor('pv');
      const live = () => repository.transaction((tx) => repository.liveAmong(tx, storeName, [kept.sha256, dropped.sha256]));
      expect(await live()).toEqual(new Set([kept.sha256, dropped.sha256]));

      await editor.deleteDatasetVersion({ datasetId, version: 2n });
      expect((await failure(viewer.getDatasetVersion({ datasetId, version: 2n })))?.code).toBe(status.NOT_FOUND);
      expect((await failure(viewer.resolveDatasetReference({ projectId: 'pv', reference: 'datasets:/doomed/2' })))?.code).toBe(status.NOT_FOUND);
      expect((await failure(editor.deleteDatasetVersion({ datasetId, version: 2n })))?.code).toBe(status.NOT_FOUND);
      expect((await viewer.listDatasetVersions({ datasetId })).versions.map(({ version }) => version)).toEqual([1n]);
      expect(await live()).toEqual(new Set([kept.sha256]));
      expect((await commit(editor, { datasetId, parentVersion: 1n }, [await stored('new', 'new')])).version?.version).toBe(3n);
      await eventually(() => expect(versionEvents.filter((event) => event.datasetId === datasetId && event.subject.endsWith('.deleted')).map(({ version }) => version)).toEqual([2n]));

      await editor.deleteDataset({ datasetId });
      expect((await failure(viewer.resolveDatasetReference({ projectId: 'pv', reference: 'datasets:/doomed@old' })))?.code).toBe(status.NOT_FOUND);
      expect((await failure(viewer.listDatasetVersions({ datasetId })))?.code).toBe(status.NOT_FOUND);
      expect(await live()).toEqual(new Set());
      // The name is free again for a new dataset, whose versions start from 1.
      const reborn = await newDataset('doomed');
      expect((await commit(editor, { datasetId: reborn }, [kept])).version?.version).toBe(1n);
    });

    it('audits commits, tag moves and deletes, naming the version', async () => {
      const datasetId = await newDataset('audited');
      await commit(editor, { datasetId }, [await stored('a', 'audited a')]);
      await commit(editor, { datasetId, parentVersion: 1n, tags: ['prod'] }, [await stored('b', 'audited b')]);
      await editor.setDatasetVersionTag({ datasetId, version: 1n, tag: 'prod', move: true });
      await editor.deleteDatasetVersion({ datasetId, version: 2n });
      const name = 'projects/pv/datasets/audited';
      await eventually(() =>
        expect(audits.filter((audit) => audit.resource.startsWith(`${name}/`))).toEqual([
          { method: 'trellis.data.v1.DataService/CommitDatasetVersion', resource: `${name}/versions/1`, actor: 'erin' },
          { method: 'trellis.data.v1.DataService/CommitDatasetVersion', resource: `${name}/versions/2`, actor: 'erin' },
          { method: 'trellis.data.v1.DataService/SetDatasetVersionTag', resource: `${name}/tags/prod`, actor: 'erin' },
          { method: 'trellis.data.v1.DataService/DeleteDatasetVersion', resource: `${name}/versions/2`, actor: 'erin' },
        ]),
      );
    });

    it('lets a viewer read versions but not commit, tag or delete, and shows an outsider nothing', async () => {
      const datasetId = await newDataset('guarded-versions');
      const file = await stored('g', 'g');
      await commit(editor, { datasetId }, [file]);
      expect((await viewer.getDatasetVersion({ datasetId, version: 1n })).version?.fileCount).toBe(1n);
      for (const call of [commit(viewer, { datasetId }, [file]), viewer.setDatasetVersionTag({ datasetId, version: 1n, tag: 'mine' }), viewer.deleteDatasetVersion({ datasetId, version: 1n })]) {
        expect((await failure(call))?.code).toBe(status.PERMISSION_DENIED);
      }
      expect((await failure(outsider.getDatasetVersion({ datasetId, version: 1n })))?.code).toBe(status.NOT_FOUND);
      expect((await failure(commit(outsider, { datasetId }, [file])))?.code).toBe(status.NOT_FOUND);
      expect((await failure(outsider.resolveDatasetReference({ projectId: 'pv', reference: 'datasets:/guarded-versions/1' })))?.code).toBe(status.PERMISSION_DENIED);
    });
  });
});

import { fromBinary } from '@bufbuild/protobuf';
import { status, type ServiceError } from '@grpc/grpc-js';
import { callEveryMethodWithoutToken, type EventSubscription, type GrpcClient, type RunningService } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import { DataServiceDesc, DatasetCreatedEventSchema, DatasetDeletedEventSchema } from '@trellis/proto';
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
    service = await platform.startService(dataService);
    editor = await clientFor('erin', [{ project: 'p1', role: 'editor' }, { project: 'quota', role: 'editor' }]);
    viewer = await clientFor('vic', [{ project: 'p1', role: 'viewer' }]);
    outsider = await clientFor('oscar', [{ project: 'p2', role: 'owner' }]);
  });

  afterAll(async () => {
    await subscription?.stop();
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
});

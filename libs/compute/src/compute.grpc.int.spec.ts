import { fromBinary } from '@bufbuild/protobuf';
import { status, type ServiceError } from '@grpc/grpc-js';
import { callEveryMethodWithoutToken, type EventSubscription, type GrpcClient, type RunningService } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import { ComputeServiceDesc, QueueCreatedEventSchema, QueueDeletedEventSchema } from '@trellis/proto';
import { eventually, serviceDatabases, type ServiceDatabase } from '@trellis/testing';
import { computeService } from './compute.definition';

type Client = GrpcClient<(typeof ComputeServiceDesc)['method']>;
type Role = 'viewer' | 'editor' | 'admin' | 'owner';

const failure = async (call: Promise<unknown>) => (await call.then(() => undefined, (error: unknown) => error)) as ServiceError | undefined;

/** The quota the spec sets: above what the other tests keep in p1, small enough to reach in the quota project. */
const QUOTA = 10;

describe.each(serviceDatabases('compute'))('compute through gRPC (%s)', (_database, databaseFor) => {
  let database: ServiceDatabase;
  let platform: TestPlatform;
  let service: RunningService;
  let subscription: EventSubscription;
  let editor: Client;
  let viewer: Client;
  let outsider: Client;
  const events: Array<{ subject: string; id: string }> = [];

  const clientFor = (sub: string, bindings: Array<{ project: string; role: Role }>) => platform.client(ComputeServiceDesc, service.grpcAddress, { sub, bindings });

  beforeAll(async () => {
    database = await databaseFor();
    platform = await TestPlatform.start({ ...database.env, TRELLIS_COMPUTE_MAX_QUEUES_PER_PROJECT: String(QUOTA) });
    subscription = await platform.runtime.bus.subscribe({
      durable: 'compute-spec',
      subject: 'trellis.compute.v1.queue.*',
      handler: async (envelope) => {
        const schema = envelope.subject.endsWith('.created') ? QueueCreatedEventSchema : QueueDeletedEventSchema;
        events.push({ subject: envelope.subject, id: fromBinary(schema, envelope.payload).queue?.id ?? '' });
      },
    });
    service = await platform.startService(computeService);
    editor = await clientFor('erin', [{ project: 'p1', role: 'editor' }, { project: 'quota', role: 'editor' }]);
    viewer = await clientFor('vic', [{ project: 'p1', role: 'viewer' }]);
    outsider = await clientFor('oscar', [{ project: 'p2', role: 'owner' }]);
  });

  afterAll(async () => {
    await subscription?.stop();
    await platform?.stop();
    await database?.cleanup();
  });

  it('answers UNAUTHENTICATED on every method without a token', async () => {
    const results = await callEveryMethodWithoutToken(computeService.grpcServices, service.grpcAddress);
    expect(results.filter((result) => result.code !== status.UNAUTHENTICATED)).toEqual([]);
  });

  it('creates, gets, lists, updates and deletes a queue, with an event for each creation and deletion', async () => {
    const created = (await editor.createQueue({ projectId: 'p1', name: 'first', description: 'one' })).queue!;
    expect(created).toMatchObject({ projectId: 'p1', name: 'first', description: 'one', creatorId: 'erin' });
    expect(created.id).not.toBe('');
    expect(created.createTime).toBeDefined();

    expect((await viewer.getQueue({ queueId: created.id })).queue).toMatchObject({ id: created.id, name: 'first' });
    expect((await viewer.listQueues({ projectId: 'p1' })).queues.map(({ name }) => name)).toContain('first');

    const updated = (await editor.updateQueue({ queue: { id: created.id, name: 'ignored', description: 'two' }, updateMask: { paths: ['description'] } })).queue!;
    expect(updated).toMatchObject({ name: 'first', description: 'two' });
    expect((await viewer.getQueue({ queueId: created.id })).queue?.description).toBe('two');

    await editor.deleteQueue({ queueId: created.id });
    expect((await failure(viewer.getQueue({ queueId: created.id })))?.code).toBe(status.NOT_FOUND);
    expect((await failure(editor.deleteQueue({ queueId: created.id })))?.code).toBe(status.NOT_FOUND);
    await eventually(() =>
      expect(events.filter((event) => event.id === created.id)).toEqual([
        { subject: 'trellis.compute.v1.queue.created', id: created.id },
        { subject: 'trellis.compute.v1.queue.deleted', id: created.id },
      ]),
    );
  });

  it('pages through a project\'s queues in name order', async () => {
    for (const name of ['page-c', 'page-a', 'page-b']) await editor.createQueue({ projectId: 'p1', name });
    const first = await viewer.listQueues({ projectId: 'p1', pageSize: 2 });
    const second = await viewer.listQueues({ projectId: 'p1', pageSize: 2, pageToken: first.nextPageToken });
    expect([...first.queues, ...second.queues].map(({ name }) => name).filter((name) => name.startsWith('page-'))).toEqual(['page-a', 'page-b', 'page-c']);
    expect(second.nextPageToken).toBe('');
    expect((await failure(viewer.listQueues({ projectId: 'p1', pageToken: 'made-up' })))?.code).toBe(status.INVALID_ARGUMENT);
  });

  it('refuses a taken name, a missing name and an update without a mask, naming the field', async () => {
    const taken = (await editor.createQueue({ projectId: 'p1', name: 'taken' })).queue!;
    expect((await failure(editor.createQueue({ projectId: 'p1', name: 'taken' })))?.code).toBe(status.ALREADY_EXISTS);
    const unnamed = await failure(editor.createQueue({ projectId: 'p1', name: '' }));
    expect(unnamed?.code).toBe(status.INVALID_ARGUMENT);
    expect(unnamed?.details).toContain('name');
    const unmasked = await failure(editor.updateQueue({ queue: { id: taken.id, description: 'x' } }));
    expect(unmasked?.code).toBe(status.INVALID_ARGUMENT);
    expect(unmasked?.details).toContain('update_mask');
  });

  it('lets a viewer read but not write, and shows an outsider nothing of the project', async () => {
    const queue = (await editor.createQueue({ projectId: 'p1', name: 'guarded' })).queue!;
    expect((await failure(viewer.createQueue({ projectId: 'p1', name: 'mine' })))?.code).toBe(status.PERMISSION_DENIED);
    expect((await failure(viewer.updateQueue({ queue: { id: queue.id, description: 'x' }, updateMask: { paths: ['description'] } })))?.code).toBe(status.PERMISSION_DENIED);
    expect((await failure(viewer.deleteQueue({ queueId: queue.id })))?.code).toBe(status.PERMISSION_DENIED);
    // Another project's queues look missing, so their ids tell an outsider nothing.
    expect((await failure(outsider.getQueue({ queueId: queue.id })))?.code).toBe(status.NOT_FOUND);
    expect((await failure(outsider.deleteQueue({ queueId: queue.id })))?.code).toBe(status.NOT_FOUND);
    expect((await failure(outsider.listQueues({ projectId: 'p1' })))?.code).toBe(status.PERMISSION_DENIED);
  });

  it('holds a project to services.compute.maxQueuesPerProject', async () => {
    for (let i = 0; i < QUOTA; i++) await editor.createQueue({ projectId: 'quota', name: `quota-${i}` });
    const refused = await failure(editor.createQueue({ projectId: 'quota', name: 'one-too-many' }));
    expect(refused?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(refused?.details).toContain('maxQueuesPerProject');
  });
});

import { fromBinary } from '@bufbuild/protobuf';
import { status, type ServiceError } from '@grpc/grpc-js';
import { callEveryMethodWithoutToken, type EventSubscription, type GrpcClient, type RunningService } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import { MonitoringServiceDesc, MonitorCreatedEventSchema, MonitorDeletedEventSchema } from '@trellis/proto';
import { eventually, serviceDatabases, type ServiceDatabase } from '@trellis/testing';
import { monitoringService } from './monitoring.definition';

type Client = GrpcClient<(typeof MonitoringServiceDesc)['method']>;
type Role = 'viewer' | 'editor' | 'admin' | 'owner';

const failure = async (call: Promise<unknown>) => (await call.then(() => undefined, (error: unknown) => error)) as ServiceError | undefined;

/** The quota the spec sets: above what the other tests keep in p1, small enough to reach in the quota project. */
const QUOTA = 10;

describe.each(serviceDatabases('monitoring'))('monitoring through gRPC (%s)', (_database, databaseFor) => {
  let database: ServiceDatabase;
  let platform: TestPlatform;
  let service: RunningService;
  let subscription: EventSubscription;
  let editor: Client;
  let viewer: Client;
  let outsider: Client;
  const events: Array<{ subject: string; id: string }> = [];

  const clientFor = (sub: string, bindings: Array<{ project: string; role: Role }>) => platform.client(MonitoringServiceDesc, service.grpcAddress, { sub, bindings });

  beforeAll(async () => {
    database = await databaseFor();
    platform = await TestPlatform.start({ ...database.env, TRELLIS_MONITORING_MAX_MONITORS_PER_PROJECT: String(QUOTA) });
    subscription = await platform.runtime.bus.subscribe({
      durable: 'monitoring-spec',
      subject: 'trellis.monitoring.v1.monitor.*',
      handler: async (envelope) => {
        const schema = envelope.subject.endsWith('.created') ? MonitorCreatedEventSchema : MonitorDeletedEventSchema;
        events.push({ subject: envelope.subject, id: fromBinary(schema, envelope.payload).monitor?.id ?? '' });
      },
    });
    service = await platform.startService(monitoringService);
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
    const results = await callEveryMethodWithoutToken(monitoringService.grpcServices, service.grpcAddress);
    expect(results.filter((result) => result.code !== status.UNAUTHENTICATED)).toEqual([]);
  });

  it('creates, gets, lists, updates and deletes a monitor, with an event for each creation and deletion', async () => {
    const created = (await editor.createMonitor({ projectId: 'p1', name: 'first', description: 'one' })).monitor!;
    expect(created).toMatchObject({ projectId: 'p1', name: 'first', description: 'one', creatorId: 'erin' });
    expect(created.id).not.toBe('');
    expect(created.createTime).toBeDefined();

    expect((await viewer.getMonitor({ monitorId: created.id })).monitor).toMatchObject({ id: created.id, name: 'first' });
    expect((await viewer.listMonitors({ projectId: 'p1' })).monitors.map(({ name }) => name)).toContain('first');

    const updated = (await editor.updateMonitor({ monitor: { id: created.id, name: 'ignored', description: 'two' }, updateMask: { paths: ['description'] } })).monitor!;
    expect(updated).toMatchObject({ name: 'first', description: 'two' });
    expect((await viewer.getMonitor({ monitorId: created.id })).monitor?.description).toBe('two');

    await editor.deleteMonitor({ monitorId: created.id });
    expect((await failure(viewer.getMonitor({ monitorId: created.id })))?.code).toBe(status.NOT_FOUND);
    expect((await failure(editor.deleteMonitor({ monitorId: created.id })))?.code).toBe(status.NOT_FOUND);
    await eventually(() =>
      expect(events.filter((event) => event.id === created.id)).toEqual([
        { subject: 'trellis.monitoring.v1.monitor.created', id: created.id },
        { subject: 'trellis.monitoring.v1.monitor.deleted', id: created.id },
      ]),
    );
  });

  it('pages through a project\'s monitors in name order', async () => {
    for (const name of ['page-c', 'page-a', 'page-b']) await editor.createMonitor({ projectId: 'p1', name });
    const first = await viewer.listMonitors({ projectId: 'p1', pageSize: 2 });
    const second = await viewer.listMonitors({ projectId: 'p1', pageSize: 2, pageToken: first.nextPageToken });
    expect([...first.monitors, ...second.monitors].map(({ name }) => name).filter((name) => name.startsWith('page-'))).toEqual(['page-a', 'page-b', 'page-c']);
    expect(second.nextPageToken).toBe('');
    expect((await failure(viewer.listMonitors({ projectId: 'p1', pageToken: 'made-up' })))?.code).toBe(status.INVALID_ARGUMENT);
  });

  it('refuses a taken name, a missing name and an update without a mask, naming the field', async () => {
    const taken = (await editor.createMonitor({ projectId: 'p1', name: 'taken' })).monitor!;
    expect((await failure(editor.createMonitor({ projectId: 'p1', name: 'taken' })))?.code).toBe(status.ALREADY_EXISTS);
    const unnamed = await failure(editor.createMonitor({ projectId: 'p1', name: '' }));
    expect(unnamed?.code).toBe(status.INVALID_ARGUMENT);
    expect(unnamed?.details).toContain('name');
    const unmasked = await failure(editor.updateMonitor({ monitor: { id: taken.id, description: 'x' } }));
    expect(unmasked?.code).toBe(status.INVALID_ARGUMENT);
    expect(unmasked?.details).toContain('update_mask');
  });

  it('lets a viewer read but not write, and shows an outsider nothing of the project', async () => {
    const monitor = (await editor.createMonitor({ projectId: 'p1', name: 'guarded' })).monitor!;
    expect((await failure(viewer.createMonitor({ projectId: 'p1', name: 'mine' })))?.code).toBe(status.PERMISSION_DENIED);
    expect((await failure(viewer.updateMonitor({ monitor: { id: monitor.id, description: 'x' }, updateMask: { paths: ['description'] } })))?.code).toBe(status.PERMISSION_DENIED);
    expect((await failure(viewer.deleteMonitor({ monitorId: monitor.id })))?.code).toBe(status.PERMISSION_DENIED);
    // Another project's monitors look missing, so their ids tell an outsider nothing.
    expect((await failure(outsider.getMonitor({ monitorId: monitor.id })))?.code).toBe(status.NOT_FOUND);
    expect((await failure(outsider.deleteMonitor({ monitorId: monitor.id })))?.code).toBe(status.NOT_FOUND);
    expect((await failure(outsider.listMonitors({ projectId: 'p1' })))?.code).toBe(status.PERMISSION_DENIED);
  });

  it('holds a project to services.monitoring.maxMonitorsPerProject', async () => {
    for (let i = 0; i < QUOTA; i++) await editor.createMonitor({ projectId: 'quota', name: `quota-${i}` });
    const refused = await failure(editor.createMonitor({ projectId: 'quota', name: 'one-too-many' }));
    expect(refused?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(refused?.details).toContain('maxMonitorsPerProject');
  });
});

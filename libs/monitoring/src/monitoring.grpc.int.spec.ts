import { fromBinary } from '@bufbuild/protobuf';
import { status, type ServiceError } from '@grpc/grpc-js';
import { callEveryMethodWithoutToken, type EventSubscription, type GrpcClient, type RunningService } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import driftStats from '@trellis/plugin-drift-stats';
import { MonitoringServiceDesc, MonitorCreatedEventSchema, MonitorDeletedEventSchema, MonitorState, TaskType } from '@trellis/proto';
import { eventually, serviceDatabases, type ServiceDatabase } from '@trellis/testing';
import { monitoringService } from './monitoring.definition';

type Client = GrpcClient<(typeof MonitoringServiceDesc)['method']>;
type Role = 'viewer' | 'editor' | 'admin' | 'owner';

/** A monitor of endpoint churn whose reference is its first 100 logged rows: it needs nothing of serving to be created. */
const LOGGED = { endpoint: { endpointName: 'churn' }, reference: { kind: { case: 'logWindow' as const, value: { rows: 100n } } } };

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
    platform = await TestPlatform.start({ ...database.env, TRELLIS_MONITORING_MAX_MONITORS_PER_PROJECT: String(QUOTA) }, { plugins: [driftStats] });
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
    const created = (await editor.createMonitor({ ...LOGGED, projectId: 'p1', name: 'first', description: 'one' })).monitor!;
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

  it('creates a log-window monitor PENDING with the defaults, and returns every field it was given', async () => {
    const created = (
      await editor.createMonitor({
        ...LOGGED,
        projectId: 'p1',
        name: 'logged',
        window: { durationSeconds: 3600n, slide: 600n },
        columns: ['age', 'plan'],
        tensorColumns: [{ tensor: 'x', names: ['age', 'plan'] }],
        detectors: [{ column: 'age', detector: 'psi', threshold: 0.3 }],
        performance: { task: TaskType.CLASSIFICATION },
      })
    ).monitor!;
    expect(created).toMatchObject({
      source: { case: 'endpoint', value: { endpointName: 'churn' } },
      reference: { origin: 'given', kind: { case: 'logWindow', value: { rows: 100n } } },
      window: { rows: 0n, durationSeconds: 3600n, slide: 600n },
      columns: ['age', 'plan'],
      tensorColumns: [{ tensor: 'x', names: ['age', 'plan'] }],
      detectors: [{ column: 'age', detector: 'psi', threshold: 0.3 }],
      driftShare: 0.5,
      performance: { task: TaskType.CLASSIFICATION, predictionTensor: '', positiveClass: '1', decisionThreshold: 0.5 },
      state: MonitorState.PENDING,
      stateMessage: 'waiting for the first 100 logged rows, the reference',
      monitoredColumns: [],
      windowsClosed: 0n,
    });
    expect((await viewer.getMonitor({ monitorId: created.id })).monitor).toEqual(created);
    const tumbling = (await editor.createMonitor({ ...LOGGED, projectId: 'p1', name: 'tumbling', driftShare: 0.25 })).monitor!;
    expect(tumbling).toMatchObject({ window: { rows: 1000n, durationSeconds: 0n, slide: 1000n }, driftShare: 0.25 });
  });

  it.each([
    ['window.rows', { window: { rows: 10n, durationSeconds: 10n } }],
    ['window.rows', { window: { rows: 1_000_001n } }],
    ['window.duration_seconds', { window: { durationSeconds: 2_592_001n } }],
    ['window.slide', { window: { rows: 100n, slide: 101n } }],
    ['drift_share', { driftShare: 1.5 }],
    ['reference.log_window.rows', { reference: { kind: { case: 'logWindow' as const, value: { rows: 0n } } } }],
    ['endpoint.endpoint_name', { endpoint: { endpointName: '' } }],
    ['detectors[0].threshold', { detectors: [{ column: 'age', detector: 'ks', threshold: 1.5 }] }],
    ['performance.task', { performance: { decisionThreshold: 0.7 } }],
  ])('refuses a monitor with %s out of range, naming the field', async (field, change) => {
    const refused = await failure(editor.createMonitor({ ...LOGGED, projectId: 'p1', name: `bad-${field}`, ...change }));
    expect(refused?.code).toBe(status.INVALID_ARGUMENT);
    expect(refused?.details).toMatch(new RegExp(`^${field.replace(/[.[\]]/g, '\\$&')}: `));
  });

  it('refuses a detector no drift instance has (DETECTOR_NOT_FOUND), naming those there are', async () => {
    const refused = await failure(editor.createMonitor({ ...LOGGED, projectId: 'p1', name: 'energy', detectors: [{ column: 'age', detector: 'energy' }] }));
    expect(refused?.code).toBe(status.FAILED_PRECONDITION);
    expect(refused?.details).toContain('detectors[0]: no drift instance is named "energy"; there are');
  });

  it('pages through a project\'s monitors in name order', async () => {
    for (const name of ['page-c', 'page-a', 'page-b']) await editor.createMonitor({ ...LOGGED, projectId: 'p1', name });
    const names: string[] = [];
    let pageToken = '';
    do {
      const page = await viewer.listMonitors({ projectId: 'p1', pageSize: 2, pageToken });
      expect(page.monitors.length).toBeLessThanOrEqual(2);
      names.push(...page.monitors.map(({ name }) => name));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(names).toEqual([...names].sort());
    expect(names.filter((name) => name.startsWith('page-'))).toEqual(['page-a', 'page-b', 'page-c']);
    expect((await failure(viewer.listMonitors({ projectId: 'p1', pageToken: 'made-up' })))?.code).toBe(status.INVALID_ARGUMENT);
  });

  it('refuses a taken name, a missing name and an update without a mask, naming the field', async () => {
    const taken = (await editor.createMonitor({ ...LOGGED, projectId: 'p1', name: 'taken' })).monitor!;
    expect((await failure(editor.createMonitor({ ...LOGGED, projectId: 'p1', name: 'taken' })))?.code).toBe(status.ALREADY_EXISTS);
    const unnamed = await failure(editor.createMonitor({ ...LOGGED, projectId: 'p1', name: '' }));
    expect(unnamed?.code).toBe(status.INVALID_ARGUMENT);
    expect(unnamed?.details).toContain('name');
    const unmasked = await failure(editor.updateMonitor({ monitor: { id: taken.id, description: 'x' } }));
    expect(unmasked?.code).toBe(status.INVALID_ARGUMENT);
    expect(unmasked?.details).toContain('update_mask');
  });

  it('lets a viewer read but not write, and shows an outsider nothing of the project', async () => {
    const monitor = (await editor.createMonitor({ ...LOGGED, projectId: 'p1', name: 'guarded' })).monitor!;
    expect((await failure(viewer.createMonitor({ ...LOGGED, projectId: 'p1', name: 'mine' })))?.code).toBe(status.PERMISSION_DENIED);
    expect((await failure(viewer.updateMonitor({ monitor: { id: monitor.id, description: 'x' }, updateMask: { paths: ['description'] } })))?.code).toBe(status.PERMISSION_DENIED);
    expect((await failure(viewer.deleteMonitor({ monitorId: monitor.id })))?.code).toBe(status.PERMISSION_DENIED);
    // Another project's monitors look missing, so their ids tell an outsider nothing.
    expect((await failure(outsider.getMonitor({ monitorId: monitor.id })))?.code).toBe(status.NOT_FOUND);
    expect((await failure(outsider.deleteMonitor({ monitorId: monitor.id })))?.code).toBe(status.NOT_FOUND);
    expect((await failure(outsider.listMonitors({ projectId: 'p1' })))?.code).toBe(status.PERMISSION_DENIED);
  });

  it('holds a project to services.monitoring.maxMonitorsPerProject', async () => {
    for (let i = 0; i < QUOTA; i++) await editor.createMonitor({ ...LOGGED, projectId: 'quota', name: `quota-${i}` });
    const refused = await failure(editor.createMonitor({ ...LOGGED, projectId: 'quota', name: 'one-too-many' }));
    expect(refused?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(refused?.details).toContain('maxMonitorsPerProject');
  });
});

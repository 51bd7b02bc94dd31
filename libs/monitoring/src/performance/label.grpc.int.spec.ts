import { status } from '@grpc/grpc-js';
import type { GrpcCallError, GrpcClient, RunningService } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import driftStats from '@trellis/plugin-drift-stats';
import { AlertServiceDesc, AlertState, MonitoringServiceDesc, PerformanceMetric } from '@trellis/proto';
import { eventually, serviceDatabases, type ServiceDatabase } from '@trellis/testing';
import { monitoringService } from '../monitoring.definition';
import { MonitorEntity } from '../monitors/monitor.entity';
import type { ScoredWindow } from '../windows/scored-window';
import { PerformanceLedger } from './performance-ledger';
import { PredictedRowEntity } from './performance.entity';

type Monitoring = GrpcClient<(typeof MonitoringServiceDesc)['method']>;
type Alerts = GrpcClient<(typeof AlertServiceDesc)['method']>;

const failure = async (call: Promise<unknown>) => (await call.then(() => undefined, (error: unknown) => error)) as GrpcCallError | undefined;

describe.each(serviceDatabases('monitoring'))('PostLabels through gRPC (%s)', (_database, databaseFor) => {
  let database: ServiceDatabase;
  let platform: TestPlatform;
  let service: RunningService;
  let editor: Monitoring;
  let viewer: Monitoring;
  let alerts: Alerts;

  /** A classification monitor of endpoint `endpointName` in p1, stored as CreateMonitor would leave it once active. */
  const addMonitor = async (name: string, endpointName: string): Promise<MonitorEntity> => {
    const monitor: MonitorEntity = {
      id: `00000000-0000-4000-8000-${name.padStart(12, '0').slice(-12)}`,
      projectId: 'p1',
      name,
      description: '',
      creatorId: 'erin',
      createdAt: 1,
      updatedAt: 1,
      endpointName,
      reference: { kind: 'log_window', rows: 10, origin: 'given' },
      windowRows: 2,
      windowSeconds: 0,
      windowSlide: 2,
      requestedColumns: [],
      tensorColumns: [],
      detectors: [],
      driftShare: 0.5,
      performance: { task: 'classification', predictionTensor: 'label', positiveClass: '1', decisionThreshold: 0.5 },
      state: 'active',
      stateMessage: '',
      monitoredColumns: [],
      windowsClosed: 0,
    };
    await service.dataSource.transaction((tx) => tx.insert(MonitorEntity, monitor));
    return monitor;
  };

  /** Records two predicted rows of request `requestId` (classes "1" and "0") and closes them as window 1, as ingest and the windows feature do. */
  const logAndClose = (monitor: MonitorEntity, requestId: string) => {
    const ledger = service.app.get(PerformanceLedger);
    // Answered now: the retention worker, which prunes at start, leaves recent rows alone.
    const now = Date.now();
    const window: ScoredWindow = {
      monitorId: monitor.id,
      projectId: 'p1',
      monitorName: monitor.name,
      endpointName: monitor.endpointName,
      number: 1,
      startMs: now,
      endMs: now + 1,
      closedAtMs: now + 2,
      rows: 2,
      firstSeq: 1,
      lastSeq: 2,
      columns: [],
      driftedColumns: 0,
      driftShare: 0,
      datasetDrift: false,
      revisionIds: [],
    };
    return service.dataSource.transaction(async (tx) => {
      await ledger.recordPredictions(tx, monitor, [
        { seq: 1, requestId, row: 0, answeredAtMs: now, predicted: '1' },
        { seq: 2, requestId, row: 1, answeredAtMs: now + 1, predicted: '0' },
      ]);
      await ledger.windowClosed(tx, monitor, window);
    });
  };

  beforeAll(async () => {
    database = await databaseFor();
    platform = await TestPlatform.start(database.env, { plugins: [driftStats] });
    service = await platform.startService(monitoringService);
    editor = await platform.client(MonitoringServiceDesc, service.grpcAddress, { sub: 'erin', bindings: [{ project: 'p1', role: 'editor' }] });
    viewer = await platform.client(MonitoringServiceDesc, service.grpcAddress, { sub: 'vic', bindings: [{ project: 'p1', role: 'viewer' }] });
    alerts = await platform.client(AlertServiceDesc, service.grpcAddress, { sub: 'erin', bindings: [{ project: 'p1', role: 'editor' }] });
  });

  afterAll(async () => {
    await platform?.stop();
    await database?.cleanup();
  });

  it('joins posted labels to logged predictions, and a performance rule fires on the window they measure', async () => {
    const monitor = await addMonitor('labelled', 'churn');
    await alerts.createAlertRule({
      rule: { monitorId: monitor.id, name: 'accuracy', condition: { case: 'performance', value: { metric: PerformanceMetric.ACCURACY, below: 0.9, minLabeledRows: 2n } } },
    });
    await logAndClose(monitor, 'req-1');

    const answer = await editor.postLabels({
      projectId: 'p1',
      endpointName: 'churn',
      labels: [
        { requestId: 'req-1', row: 0, value: { case: 'number', value: 1 } },
        { requestId: 'req-1', row: 1, value: { case: 'category', value: '1' } },
        { requestId: 'req-2', row: 0, value: { case: 'category', value: '0' } },
      ],
    });

    expect(answer).toMatchObject({ accepted: 3, matched: 2 });
    // Window 1: one of two right, accuracy 0.5 < 0.9 with two labelled rows.
    const [alert] = (await alerts.listAlerts({ projectId: 'p1', monitorId: monitor.id })).alerts;
    expect(alert).toMatchObject({ ruleName: 'accuracy', state: AlertState.FIRING, value: 0.5, windowNumber: 1n });
  });

  it('answers NOT_FOUND (ENDPOINT_NOT_FOUND) for an endpoint no monitor watches, INVALID_ARGUMENT naming the field, and PERMISSION_DENIED to a viewer', async () => {
    await addMonitor('refusals', 'refusals');
    const label = { requestId: 'r', row: 0, value: { case: 'number' as const, value: 1 } };
    const unwatched = await failure(editor.postLabels({ projectId: 'p1', endpointName: 'unwatched', labels: [label] }));
    expect({ code: unwatched?.code, reason: unwatched?.reason }).toEqual({ code: status.NOT_FOUND, reason: 'ENDPOINT_NOT_FOUND' });
    const valueless = await failure(editor.postLabels({ projectId: 'p1', endpointName: 'refusals', labels: [label, { requestId: 'r', row: 1 }] }));
    expect(valueless?.code).toBe(status.INVALID_ARGUMENT);
    expect(valueless?.details).toContain('labels[1].value');
    expect((await failure(viewer.postLabels({ projectId: 'p1', endpointName: 'refusals', labels: [label] })))?.code).toBe(status.PERMISSION_DENIED);
  });

  it("drops a deleted monitor's predicted rows and window performance once monitor.deleted reaches the feature", async () => {
    const monitor = await addMonitor('removed', 'removed');
    await logAndClose(monitor, 'req-9');
    await editor.postLabels({ projectId: 'p1', endpointName: 'removed', labels: [{ requestId: 'req-9', row: 0, value: { case: 'number', value: 1 } }] });
    expect((await service.app.get(PerformanceLedger).forWindows(monitor.id, [1])).size).toBe(1);

    await editor.deleteMonitor({ monitorId: monitor.id });

    await eventually(async () => expect((await service.app.get(PerformanceLedger).forWindows(monitor.id, [1])).size).toBe(0));
    expect(await service.dataSource.transaction((tx) => tx.countBy(PredictedRowEntity, { monitorId: monitor.id }))).toBe(0);
  });
});

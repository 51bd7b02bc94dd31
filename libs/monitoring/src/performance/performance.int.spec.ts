import { create } from '@bufbuild/protobuf';
import { abilityFor, AuditRecorder, Caller, Metrics, openDatabase, type Logger, type Principal } from '@trellis/platform';
import { EventEnvelopeSchema, MonitorDeletedEventSchema } from '@trellis/proto';
import { createTestDatabase, testSqliteDatabase, type TestDatabase } from '@trellis/testing';
import type { DataSource } from 'typeorm';
import type { AlertEvaluator } from '../alerts/alert-evaluator';
import { CreateMonitoringTables1796476304875 } from '../migrations/1796476304875-create-monitoring-tables';
import { CreatePerformanceTables1796476500000 } from '../migrations/1796476500000-create-performance-tables';
import { AddDatasetMonitors1796476700000 } from '../migrations/1796476700000-add-dataset-monitors';
import type { MonitoringConfig } from '../monitoring.config';
import { MonitorEntity, MonitorReferenceEntity, type StoredPerformance } from '../monitors/monitor.entity';
import type { ScoredWindow } from '../windows/scored-window';
import { LabelRetentionWorker } from './label-retention.worker';
import { LabelService, type PostedLabel } from './label.service';
import { PerformanceMonitorDeletedHandler } from './monitor-deleted.handler';
import { PerformanceGauges } from './performance-gauges';
import { PerformanceLedger } from './performance-ledger';
import { LabelEntity, PredictedRowEntity, WindowPerformanceEntity } from './performance.entity';
import { PerformanceRepository } from './performance.repository';
import type { PredictedRow, WindowPerformance } from './window-performance';

const ANSWERED_AT = 1_790_000_000_000;
const DAY_MS = 24 * 60 * 60 * 1000;

const callerAs = (role: 'viewer' | 'editor'): Caller => {
  const principal: Principal = { id: `${role}-1`, kind: 'user', orgId: 'org-1', orgAdmin: false, bindings: [{ projectId: 'p1', role }], expiresAt: Date.now() + 60_000, scoped: false };
  return new Caller(principal, abilityFor(principal), 'req-1', undefined, '127.0.0.1:1');
};

const classification: StoredPerformance = { task: 'classification', predictionTensor: 'label', positiveClass: '', decisionThreshold: 0.5 };
const regression: StoredPerformance = { task: 'regression', predictionTensor: 'price', positiveClass: '', decisionThreshold: 0.5 };

function monitorOf(name: string, endpointName: string, performance: StoredPerformance | null): MonitorEntity {
  return {
    id: `00000000-0000-4000-8000-${name.padStart(12, '0').slice(-12)}`,
    projectId: 'p1',
    name,
    description: '',
    creatorId: 'editor-1',
    createdAt: ANSWERED_AT,
    updatedAt: ANSWERED_AT,
    endpointName,
    reference: { kind: 'log_window', rows: 10, origin: 'given' },
    windowRows: 3,
    windowSeconds: 0,
    windowSlide: 3,
    requestedColumns: [],
    tensorColumns: [],
    detectors: [],
    driftShare: 0.5,
    performance,
    state: 'active',
    stateMessage: '',
    monitoredColumns: [],
    windowsClosed: 0,
  };
}

/** Predicted rows numbered from `firstSeq`, each [request id, row, predicted]. */
const predicted = (firstSeq: number, rows: Array<[string, number, string | number]>): PredictedRow[] =>
  rows.map(([requestId, row, value], index) => ({ seq: firstSeq + index, requestId, row, answeredAtMs: ANSWERED_AT + firstSeq + index, predicted: value }));

function windowOf(monitor: MonitorEntity, number: number, firstSeq: number, lastSeq: number): ScoredWindow {
  return {
    monitorId: monitor.id,
    projectId: monitor.projectId,
    monitorName: monitor.name,
    endpointName: monitor.endpointName,
    number,
    startMs: ANSWERED_AT + firstSeq,
    endMs: ANSWERED_AT + lastSeq,
    closedAtMs: ANSWERED_AT + 1000 * number,
    rows: lastSeq - firstSeq + 1,
    firstSeq,
    lastSeq,
    columns: [],
    driftedColumns: 0,
    driftShare: 0,
    datasetDrift: false,
    revisionIds: ['rev-1'],
  };
}

const label = (requestId: string, row: number, value: string | number): PostedLabel => (typeof value === 'number' ? { requestId, row, number: value } : { requestId, row, category: value });

const classificationOf = (labeledRows: number, accuracy: number, precision: number, recall: number, f1: number): WindowPerformance => ({
  labeledRows,
  accuracy: expect.closeTo(accuracy, 12) as number,
  precision: expect.closeTo(precision, 12) as number,
  recall: expect.closeTo(recall, 12) as number,
  f1: expect.closeTo(f1, 12) as number,
  mae: 0,
  rmse: 0,
});

describe.each(['postgres', 'sqlite'] as const)('performance on %s', (kind) => {
  let database: TestDatabase<unknown>;
  let dataSource: DataSource;
  let repository: PerformanceRepository;
  let ledger: PerformanceLedger;
  let labels: LabelService;
  const judgePerformance = jest.fn<Promise<void>, Parameters<AlertEvaluator['judgePerformance']>>(async () => undefined);
  const editor = callerAs('editor');

  /** The windows judged since the last call, as [monitor name, window number, performance]. */
  const judged = () => {
    const calls = judgePerformance.mock.calls.map(([, monitor, window, performance]) => [monitor.name, window.number, performance]);
    judgePerformance.mockClear();
    return calls;
  };

  const insertMonitor = async (monitor: MonitorEntity) => {
    await dataSource.transaction((tx) => tx.insert(MonitorEntity, monitor));
    return monitor;
  };
  const record = (monitor: MonitorEntity, rows: PredictedRow[]) => dataSource.transaction((tx) => ledger.recordPredictions(tx, monitor, rows));
  const close = (monitor: MonitorEntity, window: ScoredWindow) => dataSource.transaction((tx) => ledger.windowClosed(tx, monitor, window));
  const post = (endpointName: string, posted: PostedLabel[], caller = editor) => labels.post(caller, 'p1', endpointName, posted);
  const failure = (call: Promise<unknown>) => call.then(() => undefined, (error: unknown) => error as Error & { reason?: string; field?: string });

  beforeAll(async () => {
    database = kind === 'postgres' ? await createTestDatabase() : testSqliteDatabase();
    dataSource = await openDatabase({
      service: 'monitoring',
      database: database.config as { type: 'postgres'; url: string } | { type: 'sqlite'; path: string },
      entities: [MonitorEntity, MonitorReferenceEntity, LabelEntity, PredictedRowEntity, WindowPerformanceEntity],
      migrations: [CreateMonitoringTables1796476304875, CreatePerformanceTables1796476500000, AddDatasetMonitors1796476700000],
    });
    repository = new PerformanceRepository(dataSource);
    ledger = new PerformanceLedger(repository, { judgePerformance } as unknown as AlertEvaluator);
    // The audit record is the kit's (its own specs); here it only has to be asked for in the transaction.
    labels = new LabelService(repository, ledger, { recordIn: async () => undefined } as unknown as AuditRecorder);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  beforeEach(() => judgePerformance.mockClear());

  it('measures a classification window on labels posted before it closed and after, and has each measured window judged', async () => {
    const monitor = await insertMonitor(monitorOf('churn-perf', 'churn', classification));
    const watcher = await insertMonitor(monitorOf('churn-drift', 'churn', null));
    await record(monitor, predicted(1, [['r1', 0, '1'], ['r1', 1, '0'], ['r2', 0, '1'], ['r3', 0, 1], ['r4', 0, '0'], ['r4', 1, '1']]));
    await record(watcher, predicted(1, [['r1', 0, '1']]));

    // Before the window closes: r1/0 labelled 1 (a true positive), r1/1 labelled "1" (predicted 0: a false negative).
    expect(await post('churn', [label('r1', 0, 1), label('r1', 1, '1')])).toEqual({ accepted: 2, matched: 2 });
    expect(judged()).toEqual([]);

    await close(monitor, windowOf(monitor, 1, 1, 3));
    await close(monitor, windowOf(monitor, 2, 4, 6));
    // Window 1: 2 labelled rows, 1 right; 1 predicted positive and right; 2 labelled positive. Window 2 has no label yet.
    expect(judged()).toEqual([['churn-perf', 1, classificationOf(2, 0.5, 1, 0.5, 2 / 3)]]);
    expect(await ledger.forWindows(monitor.id, [1, 2])).toEqual(new Map([[1, classificationOf(2, 0.5, 1, 0.5, 2 / 3)]]));

    // After: r2/0 "1" (TP, window 1), r3/0 "0" (predicted 1: FP, window 2), r4/1 1 (TP, window 2), r9 logged nowhere.
    expect(await post('churn', [label('r2', 0, '1'), label('r3', 0, '0'), label('r4', 1, 1), label('r9', 0, '1')])).toEqual({ accepted: 4, matched: 3 });
    const window1 = classificationOf(3, 2 / 3, 1, 2 / 3, 0.8);
    const window2 = classificationOf(2, 0.5, 0.5, 1, 2 / 3);
    expect(judged()).toEqual([
      ['churn-perf', 1, window1],
      ['churn-perf', 2, window2],
    ]);
    expect(await ledger.forWindows(monitor.id, [1, 2, 3])).toEqual(new Map([[1, window1], [2, window2]]));
    expect(judgePerformance.mock.calls).toEqual([]);

    // A label posted again replaces the first: r3/0 is now "1", right; only window 2 changes.
    expect(await post('churn', [label('r3', 0, '1')])).toEqual({ accepted: 1, matched: 1 });
    expect(judged()).toEqual([['churn-perf', 2, classificationOf(2, 1, 1, 1, 1)]]);
    expect((await ledger.forWindows(monitor.id, [1]))).toEqual(new Map([[1, window1]]));
  });

  it('hands the judged window its close time, and the evaluator the monitor and the transaction', async () => {
    const monitor = await insertMonitor(monitorOf('close-time', 'close-time', classification));
    const inTransaction: boolean[] = [];
    judgePerformance.mockImplementationOnce(async (manager) => void inTransaction.push(manager.queryRunner?.isTransactionActive === true));
    await record(monitor, predicted(1, [['c1', 0, 'yes']]));
    await close(monitor, windowOf(monitor, 7, 1, 1));
    await post('close-time', [label('c1', 0, 'no')]);
    const [[, judgedMonitor, window]] = judgePerformance.mock.calls;
    expect(inTransaction).toEqual([true]);
    expect(judgedMonitor).toMatchObject({ id: monitor.id, name: 'close-time' });
    expect(window).toEqual({ number: 7, closedAtMs: ANSWERED_AT + 7000 });
  });

  it('measures MAE and RMSE of regression windows, a label reaching every sliding window that holds its row', async () => {
    const monitor = await insertMonitor(monitorOf('price-perf', 'price', regression));
    await record(monitor, predicted(1, [['p1', 0, 2.5], ['p2', 0, 0], ['p3', 0, 2], ['p4', 0, 8]]));
    await close(monitor, windowOf(monitor, 1, 1, 4));
    await close(monitor, windowOf(monitor, 2, 3, 4));
    expect(judged()).toEqual([]);

    // Labels 3, -0.5, 2, 7: errors 0.5, 0.5, 0, 1. Window 2 holds the last two.
    expect(await post('price', [label('p1', 0, 3), label('p2', 0, -0.5), label('p3', 0, 2), label('p4', 0, 7)])).toEqual({ accepted: 4, matched: 4 });
    const window1 = { labeledRows: 4, accuracy: 0, precision: 0, recall: 0, f1: 0, mae: 0.5, rmse: expect.closeTo(Math.sqrt(0.375), 12) };
    const window2 = { labeledRows: 2, accuracy: 0, precision: 0, recall: 0, f1: 0, mae: 0.5, rmse: expect.closeTo(Math.sqrt(0.5), 12) };
    expect(judged()).toEqual([
      ['price-perf', 1, window1],
      ['price-perf', 2, window2],
    ]);

    // A label for p1 only reaches window 1.
    await post('price', [label('p1', 0, 2.5)]);
    expect(judged()).toEqual([['price-perf', 1, { ...window1, mae: 0.375, rmse: expect.closeTo(Math.sqrt(1.25 / 4), 12) }]]);
  });

  it('keeps a label that waits for its prediction, which joins it when its window closes', async () => {
    const monitor = await insertMonitor(monitorOf('early-perf', 'early', classification));
    expect(await post('early', [label('e1', 0, '1'), label('e1', 1, '0')])).toEqual({ accepted: 2, matched: 0 });
    await record(monitor, predicted(1, [['e1', 0, '1'], ['e1', 1, '1']]));
    await close(monitor, windowOf(monitor, 1, 1, 2));
    expect(judged()).toEqual([['early-perf', 1, classificationOf(2, 0.5, 0.5, 1, 2 / 3)]]);
  });

  it('records nothing for a monitor without performance', async () => {
    const monitor = await insertMonitor(monitorOf('drift-only', 'drift-only', null));
    await record(monitor, predicted(1, [['d1', 0, '1']]));
    await close(monitor, windowOf(monitor, 1, 1, 1));
    expect(await post('drift-only', [label('d1', 0, '1')])).toEqual({ accepted: 1, matched: 0 });
    expect(await ledger.forWindows(monitor.id, [1])).toEqual(new Map());
    expect(judged()).toEqual([]);
  });

  it('answers NOT_FOUND (ENDPOINT_NOT_FOUND) when no monitor watches the endpoint, and stores nothing', async () => {
    const refused = await failure(post('nobody-watches', [label('n1', 0, '1')]));
    expect(refused).toMatchObject({ code: 5, reason: 'ENDPOINT_NOT_FOUND' });
    expect(await dataSource.transaction((tx) => tx.countBy(LabelEntity, { endpointName: 'nobody-watches' }))).toBe(0);
  });

  it('refuses labels out of bounds, naming the field', async () => {
    await insertMonitor(monitorOf('bounds', 'bounds', classification));
    const cases: Array<[PostedLabel[], string]> = [
      [[], 'labels'],
      [Array.from({ length: 10_001 }, (_, row) => label('big', row, '1')), 'labels'],
      [[label('', 0, '1')], 'labels[0].request_id'],
      [[label('ok', 0, '1'), label('x'.repeat(257), 0, '1')], 'labels[1].request_id'],
      [[label('ok', 0, '1'), label('ok', -1, '1')], 'labels[1].row'],
      [[{ requestId: 'ok', row: 0 }], 'labels[0].value'],
      [[{ requestId: 'ok', row: 0, number: 1, category: '1' }], 'labels[0].value'],
      [[label('ok', 0, Number.NaN)], 'labels[0].number'],
      [[label('ok', 0, 'c'.repeat(257))], 'labels[0].category'],
    ];
    for (const [posted, field] of cases) {
      const refused = await failure(post('bounds', posted));
      expect({ field, code: (refused as { code?: number })?.code, message: refused?.message.startsWith(`${field}: `) }).toEqual({ field, code: 3, message: true });
    }
    expect(await post('bounds', Array.from({ length: 10_000 }, (_, row) => label('big', row, '1')))).toEqual({ accepted: 10_000, matched: 0 });
  });

  it('lets an editor post labels but not a viewer', async () => {
    await insertMonitor(monitorOf('guarded', 'guarded', classification));
    expect((await failure(post('guarded', [label('g1', 0, '1')], callerAs('viewer'))) as { code?: number })?.code).toBe(7);
  });

  it('reports the last labelled window of each monitor as trellis_monitoring_performance gauges', async () => {
    const monitor = await insertMonitor(monitorOf('gauged', 'gauged', classification));
    await record(monitor, predicted(1, [['m1', 0, '1'], ['m2', 0, '0'], ['m3', 0, '1']]));
    await close(monitor, windowOf(monitor, 1, 1, 1));
    await close(monitor, windowOf(monitor, 2, 2, 3));
    await post('gauged', [label('m1', 0, '1'), label('m2', 0, '1'), label('m3', 0, '1')]);
    const price = await insertMonitor(monitorOf('gauged-price', 'gauged-price', regression));
    await record(price, predicted(1, [['q1', 0, 1], ['q2', 0, 4]]));
    await close(price, windowOf(price, 1, 1, 2));
    await post('gauged-price', [label('q1', 0, 2), label('q2', 0, 2)]);
    const metrics = new Metrics();
    new PerformanceGauges(metrics, repository);
    const exposition = await metrics.registry.metrics();
    const series = (metric: string) => `trellis_monitoring_performance{project="p1",monitor="gauged",monitor_id="${monitor.id}",metric="${metric}"}`;
    // Window 2: m2 predicted 0 but labelled 1, m3 right.
    expect(exposition).toContain(`${series('labeled_rows')} 2\n`);
    expect(exposition).toContain(`${series('accuracy')} 0.5\n`);
    expect(exposition).toContain(`${series('precision')} 1\n`);
    expect(exposition).toContain(`${series('recall')} 0.5\n`);
    expect(exposition).not.toContain(series('mae'));
    // Errors 1 and 2: MAE 1.5, RMSE sqrt(2.5); no classification metric.
    expect(exposition).toMatch(/trellis_monitoring_performance\{project="p1",monitor="gauged-price",[^}]*metric="mae"\} 1\.5\n/);
    expect(exposition).not.toMatch(/monitor="gauged-price",[^}]*metric="accuracy"/);
  });

  it("forgets a deleted monitor's predicted rows and windows, and keeps its endpoint's labels", async () => {
    const monitor = await insertMonitor(monitorOf('deleted', 'deleted', classification));
    await record(monitor, predicted(1, [['x1', 0, '1']]));
    await close(monitor, windowOf(monitor, 1, 1, 1));
    await post('deleted', [label('x1', 0, '1')]);
    expect((await ledger.forWindows(monitor.id, [1])).size).toBe(1);

    const handler = new PerformanceMonitorDeletedHandler(repository);
    await dataSource.transaction((tx) => handler.handle(create(MonitorDeletedEventSchema, { monitor: { id: monitor.id } }), create(EventEnvelopeSchema), tx));

    expect(await ledger.forWindows(monitor.id, [1])).toEqual(new Map());
    expect(await dataSource.transaction((tx) => tx.countBy(PredictedRowEntity, { monitorId: monitor.id }))).toBe(0);
    expect(await dataSource.transaction((tx) => tx.countBy(LabelEntity, { endpointName: 'deleted' }))).toBe(1);
  });

  it('prunes labels and predicted rows older than services.monitoring.labelRetentionDays', async () => {
    const monitor = await insertMonitor(monitorOf('retained', 'retained', classification));
    const now = Date.now();
    await record(monitor, [
      { seq: 1, requestId: 'old', row: 0, answeredAtMs: now - 40 * DAY_MS, predicted: '1' },
      { seq: 2, requestId: 'new', row: 0, answeredAtMs: now, predicted: '1' },
    ]);
    await post('retained', [label('new', 0, '1')]);
    const logger = { info: () => undefined, warn: () => undefined } as unknown as Logger;
    const worker = new LabelRetentionWorker(repository, { labelRetentionDays: 30 } as MonitoringConfig, logger);

    await worker.prune(now);
    // The prediction answered 40 days ago is gone; the label posted now stays.
    expect(await dataSource.transaction((tx) => tx.countBy(LabelEntity, { endpointName: 'retained' }))).toBe(1);
    expect(await post('retained', [label('old', 0, '1'), label('new', 0, '1')])).toEqual({ accepted: 2, matched: 1 });

    await worker.prune(now + 31 * DAY_MS);
    expect(await dataSource.transaction((tx) => tx.countBy(LabelEntity, { endpointName: 'retained' }))).toBe(0);
    expect(await dataSource.transaction((tx) => tx.countBy(PredictedRowEntity, { monitorId: monitor.id }))).toBe(0);
  });
});

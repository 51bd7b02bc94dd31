import { create } from '@bufbuild/protobuf';
import type { AuditRecorder, Logger, Outbox, ServiceIdentity } from '@trellis/platform';
import { ColumnType, FileProfileSchema, ProfileStatus } from '@trellis/proto/trellis/data/v1/profile_service_pb';
import type { Lineage, ReferenceProfile } from './lineage';
import type { MonitorEntity, MonitorReferenceEntity } from './monitor.entity';
import { driftInstances, pendingMonitor } from './monitor.fixture';
import type { MonitorRepository } from './monitor.repository';
import { MonitorService } from './monitor.service';
import { ReferenceFitter } from './reference-fitter';

const READY = create(FileProfileSchema, {
  path: 'train.csv',
  status: ProfileStatus.READY,
  rows: 300n,
  columns: ['age', 'tenure', 'churned'].map((name) => ({
    name,
    type: ColumnType.FLOAT,
    count: 300n,
    quantiles: { count: 300n, quantiles: [{ p: 0, value: 0 }, { p: 0.5, value: 4 }, { p: 1, value: 9 }] },
  })),
});

/** A monitor created while its profile was being computed, of a model whose input x is [rows, 2]. */
const waiting = (id: string) =>
  pendingMonitor({
    id,
    stateMessage: 'the profile of datasets:/churn/1 (train.csv) is being computed',
    reference: {
      kind: 'dataset_version',
      datasetUri: 'datasets:/churn/1',
      path: '',
      origin: 'lineage: models:/churn/1, run r1, training input datasets:/churn/1',
      datasetId: `dataset-of-${id}`,
      version: 1,
      tensors: [
        { name: 'x', datatype: 'FP32', shape: [-1, 2], output: false },
        { name: 'y', datatype: 'FP32', shape: [-1, 2], output: true },
      ],
    },
  });

/** The service with its monitors table in memory and data's profiles answering `profiles` by monitor's dataset. */
function serviceWith(monitors: MonitorEntity[], profile: (monitorId: string) => ReferenceProfile | Error) {
  const rows = new Map(monitors.map((monitor) => [monitor.id, monitor]));
  const references: MonitorReferenceEntity[] = [];
  const repository = {
    pendingProfiles: async () => [...rows.values()].filter((monitor) => monitor.state === 'pending').map((monitor) => structuredClone(monitor)),
    transaction: async <T>(work: (tx: unknown) => Promise<T>) => work({}),
    lockById: async (_tx: unknown, id: string) => structuredClone(rows.get(id) ?? null),
    save: async (_tx: unknown, monitor: MonitorEntity) => void rows.set(monitor.id, structuredClone(monitor)),
    replaceReferences: async (_tx: unknown, monitorId: string, fitted: MonitorReferenceEntity[]) => {
      references.splice(0, references.length, ...references.filter((reference) => reference.monitorId !== monitorId), ...fitted);
    },
  } as unknown as MonitorRepository;
  const lineage = {
    profile: async (_options: unknown, dataset: { datasetId: string }) => {
      const answer = profile(dataset.datasetId.replace('dataset-of-', ''));
      if (answer instanceof Error) throw answer;
      return answer;
    },
  } as unknown as Lineage;
  const identity = {
    callOptions: async ({ onBehalfOf }: { onBehalfOf: string }) => ({ token: 'service', onBehalfOf }),
  } as unknown as ServiceIdentity;
  const warnings: string[] = [];
  const logger = { warn: (_fields: unknown, message: string) => warnings.push(message) } as unknown as Logger;
  const service = new MonitorService(repository, {} as AuditRecorder, {} as Outbox, new ReferenceFitter(repository, driftInstances), lineage, identity, { maxMonitorsPerProject: 10 } as never, logger);
  return { rows, references, warnings, pass: () => service.fitPendingReferences() };
}

describe('MonitorService.fitPendingReferences', () => {
  it('fits a monitor whose profile is ready now and activates it, its columns named from the profile', async () => {
    const { rows, references, pass } = serviceWith([waiting('m1')], () => ({ state: 'ready', file: READY }));
    await pass();
    expect(rows.get('m1')).toMatchObject({ state: 'active', stateMessage: '' });
    expect(rows.get('m1')!.monitoredColumns.map(({ name, index, detector }) => [name, index, detector])).toEqual([
      ['age', 0, 'ks'],
      ['tenure', 1, 'ks'],
    ]);
    expect(references.map(({ column }) => column)).toEqual(['age', 'tenure']);
  });

  it('leaves a monitor whose profile is still being computed PENDING, and fails one whose profile failed', async () => {
    const { rows, pass } = serviceWith([waiting('m1')], () => ({ state: 'pending', message: 'still' }));
    await pass();
    expect(rows.get('m1')).toMatchObject({ state: 'pending', stateMessage: 'the profile of datasets:/churn/1 (train.csv) is being computed' });

    const failed = serviceWith([waiting('m2')], () => ({ state: 'failed', message: 'train.csv of datasets:/churn/1 could not be profiled: line 3 has 2 fields' }));
    await failed.pass();
    expect(failed.rows.get('m2')).toMatchObject({ state: 'failed', stateMessage: 'train.csv of datasets:/churn/1 could not be profiled: line 3 has 2 fields' });
  });

  it('fails a monitor whose columns the profile cannot name, saying why', async () => {
    // Four columns for an input of two: not its names, and not the first two of two or three.
    const narrow = create(FileProfileSchema, { ...READY, columns: ['a', 'b', 'c', 'd'].map((name) => ({ ...READY.columns[0], name })) });
    const { rows, pass } = serviceWith([waiting('m1')], () => ({ state: 'ready', file: narrow }));
    await pass();
    expect(rows.get('m1')!.state).toBe('failed');
    expect(rows.get('m1')!.stateMessage).toContain('no column of input tensor "x"');
  });

  it('keeps a monitor whose profile cannot be read now for the next pass, and goes on with the others', async () => {
    const { rows, warnings, pass } = serviceWith([waiting('m1'), waiting('m2')], (monitorId) => (monitorId === 'm1' ? new Error('data is unreachable') : { state: 'ready', file: READY }));
    await pass();
    expect(rows.get('m1')!.state).toBe('pending');
    expect(rows.get('m2')!.state).toBe('active');
    expect(warnings).toEqual(expect.arrayContaining([expect.stringContaining('data is unreachable')]));
  });
});

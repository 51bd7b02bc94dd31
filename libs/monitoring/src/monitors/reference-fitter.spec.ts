import { FailedPreconditionError, InvalidArgumentError } from '@trellis/platform';
import type { DriftColumn, DriftSummary } from '@trellis/plugin-sdk';
import type { EntityManager } from 'typeorm';
import type { MonitoredColumnRow, MonitorEntity, MonitorReferenceEntity } from './monitor.entity';
import { DETECTORS, driftInstances, pendingMonitor } from './monitor.fixture';
import type { MonitorRepository } from './monitor.repository';
import { ReferenceFitter } from './reference-fitter';

/** A repository that keeps what the fitter writes, as the monitors table and its references would. */
function memoryRepository() {
  const written = { references: [] as MonitorReferenceEntity[], saved: [] as MonitorEntity[] };
  const repository = {
    replaceReferences: async (_tx: EntityManager, monitorId: string, references: MonitorReferenceEntity[]) => {
      written.references = [...written.references.filter((reference) => reference.monitorId !== monitorId), ...references];
    },
    save: async (_tx: EntityManager, monitor: MonitorEntity) => {
      written.saved.push(structuredClone(monitor));
    },
  } as unknown as MonitorRepository;
  return { written, fitter: new ReferenceFitter(repository, driftInstances) };
}

const column = (name: string, kind: 'numeric' | 'categorical', overrides: Partial<MonitoredColumnRow> = {}): MonitoredColumnRow => ({
  name,
  kind,
  output: false,
  tensor: name,
  index: 0,
  detector: '',
  threshold: 0,
  ...overrides,
});

const manager = {} as EntityManager;
const quantiles = (count: number): DriftSummary => ({ type: 'numeric', summary: 'quantiles', count, quantiles: [{ p: 0, value: 0 }, { p: 0.5, value: 5 }, { p: 1, value: 10 }] });
const categories = (counts: Record<string, number>): DriftSummary => ({ type: 'categorical', summary: 'categories', counts });

describe('ReferenceFitter', () => {
  it("fits each column with the default policy's detector, stores the references and activates the monitor", async () => {
    const { written, fitter } = memoryRepository();
    const monitor = pendingMonitor();
    const data = new Map<string, DriftColumn | DriftSummary>([
      ['age', quantiles(500)],
      ['member', categories({ yes: 300, no: 200 })],
      ['plan', categories({ basic: 200, pro: 200, max: 100 })],
    ]);
    const columns = [column('age', 'numeric'), column('member', 'categorical'), column('plan', 'categorical')];

    const fitted = await fitter.fit(manager, monitor, columns, data, 500);

    expect(fitted).toMatchObject({ state: 'active', stateMessage: '' });
    expect(fitted.monitoredColumns.map(({ name, detector, threshold }) => [name, detector, threshold])).toEqual([
      ['age', 'ks', 0.05],
      ['member', 'z-test', 0.2],
      ['plan', 'chi-square', 0.2],
    ]);
    expect(written.saved).toEqual([fitted]);
    expect(written.references.map(({ monitorId, column: name, detector }) => [monitorId, name, detector])).toEqual([
      [monitor.id, 'age', 'ks'],
      [monitor.id, 'member', 'z-test'],
      [monitor.id, 'plan', 'chi-square'],
    ]);
    // What is stored is the detector's own fitted reference, which scores a window after a restart.
    const stored = JSON.parse(written.references[0].fitted);
    const score = await DETECTORS.ks.score(stored, { type: 'numeric', values: [1, 2, 3, 4, 5, 6, 7, 8, 9] });
    expect(score.measure).toBe('p-value');
  });

  it('picks wasserstein and jensen-shannon above 1,000 reference rows, and raw values count their categories', async () => {
    const { fitter } = memoryRepository();
    const data = new Map<string, DriftColumn | DriftSummary>([
      ['age', { type: 'numeric', values: Array.from({ length: 1001 }, (_, i) => i % 17) }],
      ['member', { type: 'categorical', values: Array.from({ length: 1001 }, (_, i) => (i % 2 ? 'yes' : null)) }],
    ]);
    const fitted = await fitter.fit(manager, pendingMonitor(), [column('age', 'numeric'), column('member', 'categorical')], data, 1001);
    expect(fitted.monitoredColumns.map(({ detector }) => detector)).toEqual(['wasserstein', 'jensen-shannon']);
  });

  it("keeps a column's own detector and threshold", async () => {
    const { fitter } = memoryRepository();
    const fitted = await fitter.fit(manager, pendingMonitor(), [column('age', 'numeric', { detector: 'psi', threshold: 0.25 })], new Map([['age', quantiles(10)]]), 10);
    expect(fitted.monitoredColumns).toMatchObject([{ name: 'age', detector: 'psi', threshold: 0.25 }]);
  });

  it.each([
    ['no data for a column', [column('age', 'numeric'), column('tenure', 'numeric')], 'column "tenure": the reference holds no values for it'],
    ['an instance that does not exist', [column('age', 'numeric', { detector: 'energy' })], 'column "age": no drift instance is named "energy"'],
    ['an instance that does not handle the kind', [column('age', 'categorical', { detector: 'ks' })], 'column "age": drift instance "ks" handles numeric columns, and column "age" is categorical'],
    ['a p-value threshold of 1 or more', [column('age', 'numeric', { threshold: 2 })], 'column "age": the threshold of column "age" is 2'],
  ])('leaves the monitor FAILED, naming the column, for %s', async (_case, columns, message) => {
    const { written, fitter } = memoryRepository();
    const monitor = pendingMonitor();
    written.references.push({ monitorId: monitor.id, column: 'old', detector: 'ks', fitted: '{}' });
    const fitted = await fitter.fit(manager, monitor, columns, new Map([['age', quantiles(10)]]), 10);
    expect(fitted.state).toBe('failed');
    expect(fitted.stateMessage).toContain(message);
    expect(fitted.monitoredColumns).toEqual(columns);
    expect(written.references).toEqual([]);
    expect(written.saved).toEqual([fitted]);
  });

  it("leaves the monitor FAILED with the plugin's refusal of the reference", async () => {
    const { fitter } = memoryRepository();
    const broken: DriftSummary = { type: 'numeric', summary: 'quantiles', count: 10, quantiles: [{ p: 0, value: 5 }, { p: 1, value: 1 }] };
    const fitted = await fitter.fit(manager, pendingMonitor(), [column('age', 'numeric')], new Map([['age', broken]]), 10);
    expect(fitted.state).toBe('failed');
    expect(fitted.stateMessage).toMatch(/^the reference could not be fitted: column "age": /);
  });

  describe('check', () => {
    const { fitter } = memoryRepository();
    const failure = (call: Promise<unknown>) => call.then(() => undefined, (error: unknown) => error as Error & { reason?: string; field?: string });

    it('accepts the default and the instances there are', async () => {
      await expect(fitter.check([{ column: 'age', detector: '', threshold: 0 }, { column: 'plan', detector: 'psi', threshold: 0.3 }])).resolves.toBeUndefined();
    });

    it('refuses a detector no instance has (DETECTOR_NOT_FOUND), naming those there are', async () => {
      const error = await failure(fitter.check([{ column: 'age', detector: 'ks', threshold: 0 }, { column: 'plan', detector: 'energy', threshold: 0 }]));
      expect(error).toBeInstanceOf(FailedPreconditionError);
      expect(error).toMatchObject({ reason: 'DETECTOR_NOT_FOUND' });
      expect(error?.message).toMatch(/^detectors\[1\]: no drift instance is named "energy"; there are "ks", "wasserstein"/);
    });

    it("refuses a detector that does not handle the column's kind (DETECTOR_UNSUITED) when the kind is known", async () => {
      const choices = [{ column: 'plan', detector: 'ks', threshold: 0 }];
      await expect(fitter.check(choices)).resolves.toBeUndefined();
      const error = await failure(fitter.check(choices, () => 'categorical'));
      expect(error).toMatchObject({ reason: 'DETECTOR_UNSUITED', message: 'detectors[0]: drift instance "ks" handles numeric columns, and column "plan" is categorical' });
    });

    it("refuses a threshold outside the detector's measure, naming the field", async () => {
      const error = await failure(fitter.check([{ column: 'age', detector: 'ks', threshold: 1.5 }]));
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error).toMatchObject({ field: 'detectors[0].threshold' });
    });
  });
});

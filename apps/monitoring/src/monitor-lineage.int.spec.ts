import { startMonitoringPlatform, deployChurn, CHURN_FEATURES, type ChurnDeployment, type MonitoringPlatform } from '../test/monitoring-platform';

const ADMIN_KEY = `trellis_00000000000000e7_${'M'.repeat(43)}`;

/** The parts of the gateway's JSON Monitor the spec reads (protobuf JSON: int64 as strings, enums by name). */
interface JsonMonitor {
  id: string;
  name: string;
  state: string;
  stateMessage?: string;
  reference: { origin: string; datasetVersion?: { datasetUri: string; path?: string } };
  window: { rows: string; slide: string };
  driftShare: number;
  monitoredColumns: Array<{ name: string; kind: string; output?: boolean; tensor: string; index?: number; detector: string; threshold: number }>;
}

/**
 * CreateMonitor with only a project, a name and an endpoint, on the whole platform in one process:
 * lineage goes from the endpoint's revision to the registry version, its run, the run's training
 * input and that dataset version's profile, and the monitor is ACTIVE with the profile's columns
 * and the default policy's detectors.
 */
describe('a monitor of an endpoint with defaults, its reference found through lineage', () => {
  let platform: MonitoringPlatform;
  let churn: ChurnDeployment;

  const createMonitor = (body: object) => platform.call<{ monitor: JsonMonitor }>('trellis.monitoring.v1.MonitoringService/CreateMonitor', { projectId: churn.projectId, ...body });

  beforeAll(async () => {
    platform = await startMonitoringPlatform('lineage', ADMIN_KEY);
    churn = await deployChurn(platform, { rows: 400 });
  }, 180_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it("resolves the training dataset version and is ACTIVE, scoring the profile's feature columns with ks", async () => {
    const { monitor } = await createMonitor({ name: 'churn-defaults', endpoint: { endpointName: churn.endpointName } });

    expect(monitor).toMatchObject({
      state: 'MONITOR_STATE_ACTIVE',
      reference: { origin: `lineage: models:/churn/1, run ${churn.runId}, training input ${churn.datasetUri}`, datasetVersion: { datasetUri: churn.datasetUri } },
      window: { rows: '1000', slide: '1000' },
      driftShare: 0.5,
    });
    expect(monitor.stateMessage ?? '').toBe('');
    // Input x [rows, 10] takes the names of the CSV's first ten columns (it has eleven, the last the label); output y's columns are not in the profile.
    expect(monitor.monitoredColumns).toEqual(
      Array.from({ length: CHURN_FEATURES }, (_, i) => ({
        name: `f${i}`,
        kind: 'COLUMN_KIND_NUMERIC',
        output: false,
        tensor: 'x',
        index: i,
        detector: 'ks',
        threshold: 0.05,
      })),
    );
    const { monitor: read } = await platform.call<{ monitor: JsonMonitor }>('trellis.monitoring.v1.MonitoringService/GetMonitor', { monitorId: monitor.id });
    expect(read).toEqual(monitor);
  });

  it("takes a per-column detector and a chosen set of columns, checked against the profile's", async () => {
    const { monitor } = await createMonitor({
      name: 'churn-chosen',
      endpoint: { endpointName: churn.endpointName },
      reference: { datasetVersion: { datasetUri: 'datasets:/churn/1', path: 'train.csv' } },
      columns: ['f0', 'f3'],
      detectors: [{ column: 'f3', detector: 'psi' }],
    });
    expect(monitor.state).toBe('MONITOR_STATE_ACTIVE');
    expect(monitor.reference.origin).toBe('given');
    expect(monitor.monitoredColumns.map(({ name, detector, threshold }) => [name, detector, threshold])).toEqual([
      ['f0', 'ks', 0.05],
      ['f3', 'psi', 0.1],
    ]);
  });

  it.each([
    ['an endpoint the project does not have', { endpoint: { endpointName: 'nowhere' } }, /: 404 .*ENDPOINT_NOT_FOUND/],
    ['a dataset version that does not exist', { endpoint: { endpointName: 'churn' }, reference: { datasetVersion: { datasetUri: 'datasets:/churn/9' } } }, /: 404 .*REFERENCE_NOT_FOUND/],
    ['a column neither the tensors nor the profile have', { endpoint: { endpointName: 'churn' }, columns: ['income'] }, /: 400 .*COLUMNS_UNRESOLVED/],
    ['a detector that does not handle numbers', { endpoint: { endpointName: 'churn' }, detectors: [{ column: 'f1', detector: 'chi-square' }] }, /: 400 .*DETECTOR_UNSUITED/],
  ])('refuses %s, with its reason', async (_case, body, refusal) => {
    await expect(createMonitor({ name: 'refused', ...body })).rejects.toThrow(refusal);
  });
});

import { eventually, seededUniforms } from '@trellis/testing';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMonitoringPlatform, type MonitoringPlatform } from '../test/monitoring-platform';

const ADMIN_KEY = `trellis_00000000000000d5_${'D'.repeat(43)}`;
const FEATURES = 6;
const PLANS = ['basic', 'pro', 'team'];

/** The parts of the gateway's JSON Monitor and WindowResult the spec reads (protobuf JSON: int64 as strings, enums by name). */
interface JsonMonitor {
  id: string;
  state: string;
  stateMessage?: string;
  dataset?: { datasetName: string; path?: string };
  endpoint?: unknown;
  reference: { origin: string; datasetVersion?: { datasetUri: string } };
  monitoredColumns: Array<{ name: string; kind: string; detector: string; tensor?: string }>;
  windowsClosed?: string;
}
interface JsonWindow {
  number: string;
  rows: string;
  startTime: string;
  endTime: string;
  driftedColumns?: number;
  datasetDrift?: boolean;
  columns: Array<{ column: string; detector: string; drifted?: boolean; error?: string }>;
}

/**
 * A CSV of `count` rows from a fixed seed: numeric features f0..f5 roughly normal around i / 10
 * (plus `shift`), and a plan whose mix moves toward "team" with the shift. The same arguments give the same file.
 */
function accountsCsv(count: number, seed: number, shift = 0): string {
  const uniform = seededUniforms(seed);
  const rows = Array.from({ length: count }, () => {
    const features = Array.from({ length: FEATURES }, (_, i) => Math.round((i / 10 + (uniform() + uniform() + uniform() - 1.5) + shift) * 1000) / 1000);
    const plan = PLANS[Math.min(2, Math.floor(uniform() * 3 + shift))];
    return [...features, plan].join(',');
  });
  return [[...Array.from({ length: FEATURES }, (_, i) => `f${i}`), 'plan'].join(','), ...rows, ''].join('\n');
}

/**
 * A monitor of a dataset's versions on the whole platform in one process: created with only the
 * dataset's name, its reference is the latest version and its columns the profile's; each version
 * pushed after it is one window, and a shifted one is dataset drift that fires a drift_share alert.
 */
describe('a monitor of a dataset, each new version one window', () => {
  let platform: MonitoringPlatform;
  let projectId: string;
  let datasetId: string;
  let monitor: JsonMonitor;
  let pushed = 0;

  const createMonitor = (body: object) => platform.call<{ monitor: JsonMonitor }>('trellis.monitoring.v1.MonitoringService/CreateMonitor', { projectId, ...body });
  const windowsOf = async () => (await platform.call<{ windows?: JsonWindow[] }>('trellis.monitoring.v1.MonitoringService/ListWindowResults', { monitorId: monitor.id })).windows ?? [];
  const closedWindow = (number: number) =>
    eventually(
      async () => {
        const window = (await windowsOf()).find((listed) => listed.number === String(number));
        if (!window) throw new Error(`window ${number} has not closed`);
        return window;
      },
      { timeoutMs: 60_000 },
    );

  /** Pushes a version holding accounts.csv (and `extra` files); its number and commit time. */
  const pushVersion = async (csv: string, extra: Record<string, string> = {}): Promise<{ version: string; createTime: string }> => {
    const dir = join(platform.dir, `version-${++pushed}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'accounts.csv'), csv);
    for (const [name, content] of Object.entries(extra)) writeFileSync(join(dir, name), content);
    writeFileSync(join(dir, 'README.md'), 'accounts, one row each\n');
    const response = await platform.http(`/v1/data/datasets/${datasetId}/versions?message=v${pushed}`, {
      method: 'POST',
      body: execFileSync('tar', ['-C', dir, '-c', '.']),
      headers: { 'content-type': 'application/x-tar' },
    });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`pushing the version: ${response.status} ${text}`);
    const { version } = JSON.parse(text) as { version: { version: string; createTime: string } };
    return version;
  };

  beforeAll(async () => {
    platform = await startMonitoringPlatform('dataset', ADMIN_KEY);
    projectId = (await platform.call<{ project: { id: string } }>('trellis.governance.v1.IdentityService/CreateProject', { name: 'accounts-monitoring' })).project.id;
    datasetId = (await platform.call<{ dataset: { id: string } }>('trellis.data.v1.DataService/CreateDataset', { projectId, name: 'accounts' })).dataset.id;
    await pushVersion(accountsCsv(400, 5));
    await eventually(
      async () => {
        const profile = await platform.call<{ status: string }>('trellis.data.v1.ProfileService/GetVersionProfile', { datasetId, version: '1' });
        if (profile.status !== 'PROFILE_STATUS_READY') throw new Error(`the profile is ${profile.status}`);
      },
      { timeoutMs: 60_000 },
    );
  }, 180_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it('refuses both an endpoint and a dataset, and what a dataset monitor does not take, naming the field', async () => {
    await expect(createMonitor({ name: 'both', endpoint: { endpointName: 'churn' }, dataset: { datasetName: 'accounts' } })).rejects.toThrow(/dataset: is set with endpoint; set exactly one of endpoint and dataset/);
    await expect(createMonitor({ name: 'log', dataset: { datasetName: 'accounts' }, reference: { logWindow: { rows: '100' } } })).rejects.toThrow(/reference\.log_window: is not taken by a monitor of a dataset/);
    await expect(createMonitor({ name: 'windowed', dataset: { datasetName: 'accounts' }, window: { rows: '10' } })).rejects.toThrow(/window: is not taken by a monitor of a dataset/);
    await expect(createMonitor({ name: 'named', dataset: { datasetName: 'accounts' }, tensorColumns: [{ tensor: 'x', names: ['a'] }] })).rejects.toThrow(/tensor_columns: is not taken by a monitor of a dataset/);
    await expect(createMonitor({ name: 'labeled', dataset: { datasetName: 'accounts' }, performance: { task: 'TASK_TYPE_REGRESSION' } })).rejects.toThrow(/performance: is not taken by a monitor of a dataset/);
    await expect(createMonitor({ name: 'nothing', dataset: { datasetName: 'no-such' } })).rejects.toThrow(/404.*DATASET_NOT_FOUND|DATASET_NOT_FOUND.*404|no dataset named "no-such"/);
  });

  it("takes the dataset's latest version as the reference and is ACTIVE, scoring the profile's columns with the default policy", async () => {
    ({ monitor } = await createMonitor({ name: 'accounts-watch', dataset: { datasetName: 'accounts' } }));
    expect(monitor).toMatchObject({
      state: 'MONITOR_STATE_ACTIVE',
      dataset: { datasetName: 'accounts' },
      reference: { origin: 'latest version at creation: datasets:/accounts/1', datasetVersion: { datasetUri: 'datasets:/accounts/1' } },
    });
    expect(monitor.endpoint).toBeUndefined();
    expect(monitor.monitoredColumns.map(({ name, kind, detector }) => [name, kind, detector])).toEqual([
      ...Array.from({ length: FEATURES }, (_, i) => [`f${i}`, 'COLUMN_KIND_NUMERIC', 'ks']),
      ['plan', 'COLUMN_KIND_CATEGORICAL', 'chi-square'],
    ]);
    await platform.call('trellis.monitoring.v1.AlertService/CreateAlertRule', {
      rule: { monitorId: monitor.id, name: 'accounts-drift', driftShare: { atLeast: 0.5 }, forSeconds: '0', severity: 'ALERT_SEVERITY_WARNING' },
    });
  });

  it('scores the next version, of the same distribution, as window 1 without dataset drift', async () => {
    const version = await pushVersion(accountsCsv(300, 6));
    const window = await closedWindow(1);
    expect(window).toMatchObject({ rows: '300', startTime: version.createTime, endTime: version.createTime });
    expect(window.datasetDrift ?? false).toBe(false);
    expect(window.columns.map(({ column, error }) => [column, error ?? ''])).toEqual([...Array.from({ length: FEATURES }, (_, i) => [`f${i}`, '']), ['plan', '']]);
    const { alerts } = await platform.call<{ alerts?: unknown[] }>('trellis.monitoring.v1.AlertService/ListAlerts', { projectId, monitorId: monitor.id });
    expect(alerts ?? []).toEqual([]);
  });

  it('flags a shifted version as dataset drift in window 2 and fires the drift_share alert', async () => {
    await pushVersion(accountsCsv(300, 7, 1));
    const window = await closedWindow(2);
    expect(window).toMatchObject({ rows: '300', datasetDrift: true, driftedColumns: FEATURES + 1 });
    const { alerts } = await platform.call<{ alerts: Array<{ ruleName: string; state: string; windowNumber: string }> }>('trellis.monitoring.v1.AlertService/ListAlerts', { projectId, monitorId: monitor.id });
    expect(alerts).toEqual([expect.objectContaining({ ruleName: 'accounts-drift', state: 'ALERT_STATE_FIRING', windowNumber: '2' })]);
    const { monitor: read } = await platform.call<{ monitor: JsonMonitor }>('trellis.monitoring.v1.MonitoringService/GetMonitor', { monitorId: monitor.id });
    expect(read.windowsClosed).toBe('2');
  });

  it('skips a version it cannot tell which file to read of after three tries, saying so on the monitor, until a later version is scored', async () => {
    const skipped = await pushVersion(accountsCsv(50, 8), { 'extra.csv': accountsCsv(50, 9) });
    const noted = await eventually(
      async () => {
        const { monitor: read } = await platform.call<{ monitor: JsonMonitor }>('trellis.monitoring.v1.MonitoringService/GetMonitor', { monitorId: monitor.id });
        if (!read.stateMessage) throw new Error('the monitor says nothing yet');
        return read;
      },
      { timeoutMs: 60_000 },
    );
    expect(noted).toMatchObject({
      state: 'MONITOR_STATE_ACTIVE',
      stateMessage: `version ${skipped.version} of dataset accounts was not scored after 3 tries: it has several tabular files; name the one to score with the monitor's dataset.path`,
    });
    await pushVersion(accountsCsv(200, 10));
    expect(await closedWindow(3)).toMatchObject({ rows: '200' });
    const { monitor: read } = await platform.call<{ monitor: JsonMonitor }>('trellis.monitoring.v1.MonitoringService/GetMonitor', { monitorId: monitor.id });
    expect(read.stateMessage ?? '').toBe('');
    expect(read.windowsClosed).toBe('3');
  });
});

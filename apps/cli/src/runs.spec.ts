import { platformClient, seedProject } from '@trellis/testing';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from './exit-codes';
import { jsonOf, runCli } from '../test/run-cli';
import { sparkline, summarize } from './tracking/sparkline';

/** A run with params and a loss series, logged as a training script would. */
async function seedRun(experimentId: string, name: string, params: Record<string, string>, losses: number[]): Promise<string> {
  const client = platformClient();
  const { run } = await client.call<{ run: { info: { id: string } } }>('trellis.tracking.v1.RunService/CreateRun', { experimentId, runName: name });
  const runId = run.info.id;
  await client.call('trellis.tracking.v1.RunService/LogBatch', {
    runId,
    params: Object.entries(params).map(([key, value]) => ({ key, value })),
    metrics: losses.map((value, step) => ({ key: 'loss', value, step: String(step), timestampMs: String(1_700_000_000_000 + step) })),
  });
  return runId;
}

describe('trellis experiments and runs', () => {
  let project: string;
  let fast: string;
  let slow: string;
  beforeAll(async () => {
    ({ name: project } = await seedProject('cli-runs'));
    const created = await runCli(['experiments', 'create', 'churn', '-p', project, '-o', 'json']);
    const { id } = jsonOf<{ id: string }>(created);
    fast = await seedRun(id, 'fast', { model: 'tree', depth: '4' }, [0.9, 0.5, 0.2, 0.1]);
    slow = await seedRun(id, 'slow', { model: 'linear', depth: '4' }, [0.9, 0.8, 0.7, 0.6]);
  });

  it('lists and shows experiments by name or id', async () => {
    const listed = jsonOf<Array<{ id: string; name: string }>>(await runCli(['experiments', 'list', '-p', project, '-o', 'json']));
    const churn = listed.find((experiment) => experiment.name === 'churn');
    expect(churn).toBeDefined();
    const byId = await runCli(['experiments', 'show', churn?.id ?? '', '-p', project]);
    expect(byId.stdout).toMatch(/^name:\s+churn$/m);
    const missing = await runCli(['experiments', 'show', 'nope', '-p', project]);
    expect(missing.code).toBe(EXIT.notFound);
    expect(missing.stderr).toContain('trellis experiments list');
  });

  it("searches an experiment's runs with a filter and an order, and refuses a bad filter with exit code 8", async () => {
    const ordered = jsonOf<Array<{ info: { runName: string } }>>(await runCli(['runs', 'list', '-e', 'churn', '--order-by', 'metrics.loss DESC', '-p', project, '-o', 'json']));
    expect(ordered.map((run) => run.info.runName)).toEqual(['slow', 'fast']);
    const filtered = await runCli(['runs', 'list', '-e', 'churn', '-f', "params.model = 'tree'", '-p', project]);
    expect(filtered.stdout.split('\n')[0]).toMatch(/^RUN ID\s+NAME\s+STATUS\s+STARTED\s+METRICS$/);
    expect(filtered.stdout).toContain(fast);
    expect(filtered.stdout).toContain('loss=0.1');
    expect(filtered.stdout).not.toContain(slow);
    const capped = jsonOf<unknown[]>(await runCli(['runs', 'list', '-e', 'churn', '--max', '1', '-p', project, '-o', 'json']));
    expect(capped).toHaveLength(1);

    const invalid = await runCli(['runs', 'list', '-e', 'churn', '-f', 'metrics.loss <<< 1', '-p', project]);
    expect(invalid.code).toBe(EXIT.invalidArgument);
    expect(invalid.stderr).toMatch(/filter/);
    const badMax = await runCli(['runs', 'list', '-e', 'churn', '--max', 'ten', '-p', project]);
    expect(badMax.code).toBe(EXIT.usage);
  });

  it("shows a run's params, latest metrics and tags, and exits 5 for a run that does not exist", async () => {
    const shown = await runCli(['runs', 'show', fast, '-p', project]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^name:\s+fast$/m);
    expect(shown.stdout).toMatch(/^depth\s+4$/m);
    expect(shown.stdout).toMatch(/^model\s+tree$/m);
    expect(shown.stdout).toMatch(/^loss\s+0\.1\s+3$/m);
    const json = jsonOf<{ info: { id: string } }>(await runCli(['runs', 'show', fast, '-o', 'json']));
    expect(json.info.id).toBe(fast);
    const missing = await runCli(['runs', 'show', 'f'.repeat(32)]);
    expect(missing.code).toBe(EXIT.notFound);
  });

  it('compares runs side by side and marks the rows that differ', async () => {
    const compared = await runCli(['runs', 'compare', fast, slow]);
    expect(compared.stdout.split('\n')[0]).toMatch(/^\s+KEY\s+FAST\s+SLOW$/);
    expect(compared.stdout).toMatch(/^ {3}params\.depth\s+4\s+4$/m);
    expect(compared.stdout).toMatch(/^\* +params\.model\s+tree\s+linear$/m);
    expect(compared.stdout).toMatch(/^\* +metrics\.loss\s+0\.1\s+0\.6$/m);
    const onlyDiff = jsonOf<{ rows: Array<{ key: string }> }>(await runCli(['runs', 'compare', fast, slow, '--diff', '-o', 'json']));
    expect(onlyDiff.rows.map((row) => row.key)).toEqual(['params.model', 'metrics.loss']);
    const one = await runCli(['runs', 'compare', fast]);
    expect(one.code).toBe(EXIT.usage);
  });

  it('draws a metric as a sparkline with its min, max and last value, and prints the points as JSON', async () => {
    const drawn = await runCli(['runs', 'metric', fast, 'loss', '--width', '20']);
    expect(drawn.stdout).toBe('loss  █▅▂▁  min 0.1  max 0.9  last 0.1  (4 points)\n');
    const points = jsonOf<{ totalPoints: string; points: Array<{ step: string; value: number }> }>(await runCli(['runs', 'metric', slow, 'loss', '-o', 'json']));
    expect(points.totalPoints).toBe('4');
    expect(points.points.map((point) => point.value)).toEqual([0.9, 0.8, 0.7, 0.6]);
    const none = await runCli(['runs', 'metric', fast, 'accuracy']);
    expect(none.code).toBe(EXIT.notFound);
    expect(none.stderr).toContain('has no metric "accuracy"');
  });

  it("lists a run's artifacts and downloads one, byte for byte, to a file or standard output", async () => {
    const client = platformClient();
    const { run } = await client.call<{ run: { info: { experimentId: string } } }>('trellis.tracking.v1.RunService/GetRun', { runId: fast });
    const report = Buffer.from(Array.from({ length: 3000 }, (_, line) => `line ${line}\n`).join(''));
    await client.request(`/api/2.0/mlflow-artifacts/artifacts/${run.info.experimentId}/${fast}/artifacts/eval/report.txt`, { method: 'PUT', body: report });

    const root = jsonOf<Array<{ path: string; isDir?: boolean }>>(await runCli(['runs', 'artifacts', fast, '-p', project, '-o', 'json']));
    expect(root).toEqual([{ path: 'eval', isDir: true, sizeBytes: '0' }]);
    const listed = await runCli(['runs', 'artifacts', fast, 'eval', '-p', project]);
    expect(listed.stdout).toMatch(new RegExp(`^eval/report.txt\\s+${report.length}$`, 'm'));

    const dir = mkdtempSync(join(tmpdir(), 'trellis-artifact-'));
    const written = await runCli(['runs', 'download', fast, 'eval/report.txt', '-p', project], { cwd: dir });
    expect(written).toMatchObject({ code: 0, stdout: `Wrote report.txt (${report.length} bytes).\n` });
    expect(readFileSync(join(dir, 'report.txt')).equals(report)).toBe(true);
    const piped = await runCli(['runs', 'download', fast, 'eval/report.txt', '--to', '-', '-p', project]);
    expect(piped.stdout).toBe(report.toString());
    const missing = await runCli(['runs', 'download', fast, 'eval/nope.txt', '-p', project], { cwd: dir });
    expect(missing.code).toBe(EXIT.notFound);
    expect(readdirSync(dir)).toEqual(['report.txt']);
  });
});

describe('a sparkline', () => {
  it('scales values from the lowest block to the highest, and keeps a flat series in the middle', () => {
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7], 8)).toBe('▁▂▃▄▅▆▇█');
    expect(sparkline([5, 5, 5], 10)).toBe('▄▄▄');
  });

  it('fits a long series into the width and keeps a spike', () => {
    const values = Array.from({ length: 1000 }, (_, index) => (index === 501 ? 100 : 1));
    const line = sparkline(values, 10);
    expect(line).toBe('▁▁▁▁▁█▁▁▁▁');
  });

  it('leaves a gap for NaN and sums up only the finite values', () => {
    expect(sparkline([1, Number.NaN, 3], 3)).toBe('▁ █');
    expect(summarize([1, Number.NaN, 3, Number.POSITIVE_INFINITY])).toEqual({ min: 1, max: 3, last: 3 });
  });
});

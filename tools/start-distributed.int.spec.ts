import { createTestDatabase, eventually, testNatsConfig, testPostgresUrl, type TestDatabase, type TestNatsConfig } from '@trellis/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SERVICES } from './e2e/distributed-platform';

const ROOT = resolve(__dirname, '..');

/**
 * `npm run start:distributed` as a newcomer runs it: the script builds, checks PostgreSQL and NATS,
 * starts one process per service and the gateway, and prints where everything is and the admin
 * key; an MLflow client then works through the gateway, with every call crossing processes.
 * Databases, stream and ports are this test's own, so it runs beside anything else.
 */
describe('npm run start:distributed', () => {
  const databases: Array<TestDatabase<{ type: 'postgres'; url: string }>> = [];
  let nats: TestNatsConfig;
  let dataDir: string;
  let script: ChildProcess;
  let output = '';

  beforeAll(async () => {
    for (let i = 0; i < SERVICES.length; i++) databases.push(await createTestDatabase());
    nats = testNatsConfig();
    dataDir = mkdtempSync(join(tmpdir(), 'trellis-distributed-'));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...nats.env,
      TRELLIS_DATABASE_URL: testPostgresUrl(),
      TRELLIS_DATA_DIR: dataDir,
      TRELLIS_OPS_PORT: '0',
      TRELLIS_SERVING_HTTP_PORT: '0',
      TRELLIS_GATEWAY_PORT: '0',
      TRELLIS_LOG_LEVEL: 'info',
    };
    for (const [index, service] of SERVICES.entries()) {
      env[`TRELLIS_${service.toUpperCase()}_PORT`] = '0';
      env[`TRELLIS_${service.toUpperCase()}_DATABASE_URL`] = databases[index].config.url;
    }
    script = spawn(process.execPath, ['tools/start-distributed.mjs'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    script.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    script.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await new Promise<void>((ready, failed) => {
      script.stdout!.on('data', () => output.includes('Ctrl-C stops every process.') && ready());
      script.once('exit', (code) => failed(new Error(`start:distributed exited (${code}) before it was ready:\n${output}`)));
    });
  }, 180_000);

  afterAll(async () => {
    if (script && script.exitCode === null) {
      script.kill('SIGTERM');
      await once(script, 'exit');
    }
    await nats?.cleanup();
    for (const database of databases) await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  const gatewayUrl = () => /MLFLOW_TRACKING_URI=(\S+)/.exec(output)![1];
  const adminKey = () => /The admin's API key, shown this once; store it now:\s+(trellis_\S+)/.exec(output)![1];

  async function mlflow<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${gatewayUrl()}/api/2.0/${path}`, {
      method,
      headers: { authorization: `Bearer ${adminKey()}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
    return (text ? JSON.parse(text) : {}) as T;
  }

  it('prints where every process listens, each with its own ops port, the data directory and the admin key', () => {
    for (const name of [...SERVICES, 'gateway']) expect(output).toMatch(new RegExp(`\\n  ${name.padEnd(12)} \\S+ {3}ops http://127\\.0\\.0\\.1:\\d+\\n`));
    const opsPorts = [...output.matchAll(/ {3}ops http:\/\/127\.0\.0\.1:(\d+)\n/g)].map((match) => match[1]);
    expect(new Set(opsPorts).size).toBe(SERVICES.length + 1);
    expect(output).toContain(`\n  ${'data'.padEnd(12)} ${dataDir}\n`);
    expect(adminKey()).toMatch(/^trellis_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
  });

  it('lets each process log JSON (its output is not a terminal), then print its summary in one block, the admin key after it', () => {
    expect(output).toMatch(/\n\[governance\] \{"level":30,.*"msg":"database ready"\}\n/);
    const summary = new RegExp(
      [
        '\\[governance\\] Trellis \\(distributed\\) is running\\.',
        '\\[governance\\]   ops .+',
        '\\[governance\\]   governance +grpc://.+',
        '\\[governance\\]   data +.+',
        '\\[governance\\] ',
        "\\[governance\\] Trellis: created the admin user. Its API key is shown this once; store it now:",
      ].join('\n'),
    );
    expect(output).toMatch(summary);
    const governanceLines = output.split('\n').filter((line) => line.startsWith('[governance] '));
    const bannerAt = governanceLines.indexOf('[governance] Trellis (distributed) is running.');
    expect(governanceLines.slice(0, bannerAt).some((line) => line.includes('"msg":"governance listening"'))).toBe(true);
  });

  it('issues the registry its own API key once, into a key file readable by its owner only, which the registry copies with', () => {
    const keyFile = join(dataDir, 'keys', 'registry.key');
    expect(output).toContain(`[trellis] issued the registry service's own API key into ${keyFile}`);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyFile, 'utf8').trim()).toMatch(/^trellis_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(readFileSync(keyFile, 'utf8')).not.toContain(adminKey());
  });

  it("answers /readyz on the gateway's own port once every upstream is up, with its NATS connection", async () => {
    const response = await fetch(`${gatewayUrl()}/readyz`);
    expect(response.status).toBe(200);
    const { checks } = (await response.json()) as { checks: Array<{ name: string; ok: boolean }> };
    expect(checks.map((check) => check.name).sort()).toEqual(['events.nats', 'gateway.upstream.inference', ...SERVICES.map((service) => `gateway.upstream.${service}`)].sort());
  });

  it('takes an MLflow flow through the gateway: experiment, run, metrics, an artifact, and a registered version copied from the run', async () => {
    const { experiment_id: experimentId } = await mlflow<{ experiment_id: string }>('POST', 'mlflow/experiments/create', { name: 'first-try' });
    const { run } = await mlflow<{ run: { info: { run_id: string } } }>('POST', 'mlflow/runs/create', { experiment_id: experimentId, run_name: 'baseline' });
    const runId = run.info.run_id;
    await mlflow('POST', 'mlflow/runs/log-batch', {
      run_id: runId,
      params: [{ key: 'lr', value: '0.1' }],
      metrics: [0.9, 0.5, 0.3].map((value, step) => ({ key: 'loss', value, step, timestamp: 1_767_225_600_000 + step })),
    });
    const { metrics } = await mlflow<{ metrics: Array<{ value: number; step: number }> }>('GET', `mlflow/metrics/get-history?run_id=${runId}&metric_key=loss`);
    expect(metrics.map(({ step, value }) => [step, value])).toEqual([
      [0, 0.9],
      [1, 0.5],
      [2, 0.3],
    ]);

    await mlflow('PUT', `mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts/model/model.onnx`, Buffer.from('onnx bytes'));
    await mlflow('POST', 'mlflow/registered-models/create', { name: 'churn' });
    await mlflow('POST', 'mlflow/model-versions/create', { name: 'churn', source: `runs:/${runId}/model`, run_id: runId });
    await eventually(
      async () => {
        const { model_version: version } = await mlflow<{ model_version: { status: string } }>('GET', 'mlflow/model-versions/get?name=churn&version=1');
        expect(version.status).toBe('READY');
      },
      { timeoutMs: 30_000 },
    );
    const { artifact_uri: uri } = await mlflow<{ artifact_uri: string }>('GET', 'mlflow/model-versions/get-download-uri?name=churn&version=1');
    const copied = await fetch(`${gatewayUrl()}/api/2.0/mlflow-artifacts/artifacts/${uri.replace('mlflow-artifacts:/', '')}/model.onnx`, {
      headers: { authorization: `Bearer ${adminKey()}` },
    });
    expect(await copied.text()).toBe('onnx bytes');
  }, 60_000);

  it('stops every process on SIGTERM and exits 0', async () => {
    script.kill('SIGTERM');
    const [code] = (await once(script, 'exit')) as [number | null];
    expect(code).toBe(0);
    await expect(fetch(`${gatewayUrl()}/healthz`)).rejects.toThrow();
  }, 60_000);
});

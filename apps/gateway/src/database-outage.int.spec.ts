import 'reflect-metadata';
import { gatewayEdge } from '@trellis/gateway';
import { governanceService } from '@trellis/governance';
import { runProcess, type RunningProcess } from '@trellis/platform';
import storageFs from '@trellis/plugin-storage-fs';
import { createTestDatabase, eventually, startTcpProxy, testNatsConfig, type TcpProxy, type TestDatabase, type TestNatsConfig } from '@trellis/testing';
import { trackingService } from '@trellis/tracking';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_KEY, PythonClient } from './mlflow-python-client';

/** MLflow clients of a distributed deployment whose tracking database goes out of reach for a while. */
describe("MLflow's REST API while tracking's PostgreSQL database is out of reach", () => {
  const saved = { ...process.env };
  const dir = mkdtempSync(join(tmpdir(), 'trellis-database-outage-'));
  let databases: TestDatabase<{ type: 'postgres'; url: string }>[];
  let nats: TestNatsConfig;
  let proxy: TcpProxy;
  let running: RunningProcess;
  let client: PythonClient;

  beforeAll(async () => {
    databases = [await createTestDatabase(), await createTestDatabase()];
    const [governanceDatabase, trackingDatabase] = databases.map((database) => database.config.url);
    nats = testNatsConfig();
    const server = new URL(trackingDatabase);
    proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port) });
    server.host = `${proxy.host}:${proxy.port}`;
    Object.assign(process.env, {
      TRELLIS_MODE: 'distributed',
      TRELLIS_DATA_DIR: dir,
      TRELLIS_OPS_PORT: '0',
      TRELLIS_GOVERNANCE_PORT: '0',
      TRELLIS_TRACKING_PORT: '0',
      TRELLIS_GATEWAY_PORT: '0',
      TRELLIS_LOG_LEVEL: 'silent',
      TRELLIS_GOVERNANCE_ADMIN_KEY: ADMIN_KEY,
      TRELLIS_GOVERNANCE_DATABASE_URL: governanceDatabase,
      TRELLIS_TRACKING_DATABASE_URL: server.toString(),
      ...nats.env,
    });
    running = await runProcess({ mode: 'distributed', services: [governanceService, trackingService], edges: [gatewayEdge], plugins: [storageFs], print: () => undefined });
    client = new PythonClient(running.edges[0].address, { token: ADMIN_KEY });
  });

  afterAll(async () => {
    proxy?.unblock();
    await running?.stop();
    await proxy?.close();
    await nats?.cleanup();
    await Promise.all((databases ?? []).map((database) => database.drop()));
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers a write 503 TEMPORARILY_UNAVAILABLE, which the client retries, and takes the retry once the database is back', async () => {
    const experiment = await client.setExperiment('outage');
    const runId = (await client.startRun(experiment.experiment_id)).info.run_id as string;
    const batch = { run_id: runId, metrics: [{ key: 'loss', value: 0.5, timestamp: 1_700_000_000_000, step: 1 }] };

    proxy.block();

    expect(await client.call('POST', '/api/2.0/mlflow/runs/log-batch', batch)).toEqual({
      status: 503,
      body: {
        error_code: 'TEMPORARILY_UNAVAILABLE',
        message: expect.stringMatching(/^the service's database is unavailable right now \(restarting or out of reach\); retry the call/),
      },
    });

    proxy.unblock();

    await eventually(() => client.ok('POST', 'runs/log-batch', batch));
    const { metrics } = await client.ok('GET', 'metrics/get-history', { run_id: runId, metric_key: 'loss' });
    expect(metrics).toEqual(batch.metrics);
  });
});

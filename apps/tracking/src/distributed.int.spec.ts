import 'reflect-metadata';
import { governanceService } from '@trellis/governance';
import { createGrpcClient, runProcess, type RunningProcess } from '@trellis/platform';
import storageFs from '@trellis/plugin-storage-fs';
import { fromBinary } from '@bufbuild/protobuf';
import { AuditServiceDesc, ExperimentServiceDesc, IdentityServiceDesc, RunFinishedEventSchema, RunServiceDesc, RunStatus, TokenServiceDesc } from '@trellis/proto';
import { createTestDatabase, eventually, testNatsConfig, type TestDatabase, type TestNatsConfig } from '@trellis/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trackingService } from '@trellis/tracking';

const ADMIN_KEY = `trellis_00000000000000ab_${'C'.repeat(43)}`;

describe('tracking as its own process beside governance (distributed: PostgreSQL, NATS JetStream)', () => {
  const databases: Array<TestDatabase<{ type: 'postgres'; url: string }>> = [];
  let nats: TestNatsConfig;
  let governance: RunningProcess;
  let tracking: RunningProcess;
  const dataDir = mkdtempSync(join(tmpdir(), 'trellis-tracking-'));
  const saved = { ...process.env };

  beforeAll(async () => {
    const [governanceDb, trackingDb] = [await createTestDatabase(), await createTestDatabase()];
    databases.push(governanceDb, trackingDb);
    nats = testNatsConfig();
    Object.assign(process.env, {
      TRELLIS_MODE: 'distributed',
      TRELLIS_DATA_DIR: dataDir,
      TRELLIS_OPS_PORT: '0',
      TRELLIS_LOG_LEVEL: 'silent',
      ...nats.env,
      TRELLIS_GOVERNANCE_ADMIN_KEY: ADMIN_KEY,
      TRELLIS_GOVERNANCE_DATABASE_URL: governanceDb.config.url,
      TRELLIS_GOVERNANCE_PORT: '0',
    });
    governance = await runProcess({ mode: 'distributed', services: [governanceService], print: () => undefined });
    Object.assign(process.env, {
      TRELLIS_TRACKING_DATABASE_URL: trackingDb.config.url,
      TRELLIS_TRACKING_PORT: '0',
      TRELLIS_AUTH_JWKS_URL: `${governance.opsAddress}/.well-known/jwks.json`,
      TRELLIS_GOVERNANCE_ADDRESS: governance.services[0].grpcAddress,
    });
    tracking = await runProcess({ mode: 'distributed', services: [trackingService], plugins: [storageFs], print: () => undefined });
  });

  afterAll(async () => {
    await tracking?.stop();
    await governance?.stop();
    process.env = saved;
    await nats?.cleanup();
    for (const database of databases) await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("accepts governance's tokens, searches on PostgreSQL, and its audit records reach governance's chain", async () => {
    const governanceAddress = governance.services[0].grpcAddress;
    const trackingAddress = tracking.services[0].grpcAddress;
    const { token } = await createGrpcClient(TokenServiceDesc, governanceAddress).exchangeApiKey({ apiKey: ADMIN_KEY });
    const identity = createGrpcClient(IdentityServiceDesc, governanceAddress, { token });
    const { project } = await identity.createProject({ name: 'tracking-distributed' });
    // The admin's token predates the project: a fresh one carries the new binding.
    const fresh = (await createGrpcClient(TokenServiceDesc, governanceAddress).exchangeApiKey({ apiKey: ADMIN_KEY })).token;
    const experiments = createGrpcClient(ExperimentServiceDesc, trackingAddress, { token: fresh });
    const runs = createGrpcClient(RunServiceDesc, trackingAddress, { token: fresh });

    const { experiment } = await experiments.createExperiment({ projectId: project!.id, name: 'pg' });
    const ids: string[] = [];
    for (const [index, rmse] of [0.4, 0.2, 0.3].entries()) {
      const { run } = await runs.createRun({ experimentId: experiment!.id, runName: `r${index}` });
      ids.push(run!.info!.id);
      await runs.logBatch({
        runId: run!.info!.id,
        metrics: [{ key: 'rmse', value: rmse, step: 0n, timestampMs: 1n }],
        params: [{ key: 'model', value: index === 2 ? 'linear' : 'tree' }],
      });
    }
    const page = await runs.searchRuns({ experimentIds: [experiment!.id], filter: "params.model LIKE 't%' AND metrics.rmse < 0.5", orderBy: ['metrics.rmse DESC'] });
    expect(page.runs.map((run) => run.info?.runName)).toEqual(['r0', 'r1']);

    const audit = createGrpcClient(AuditServiceDesc, governanceAddress, { token: fresh });
    await eventually(async () => {
      const { records } = await audit.listAuditRecords({});
      const created = records.filter((record) => record.event?.method === 'trellis.tracking.v1.RunService/CreateRun');
      expect(created.map((record) => record.event?.resource).sort()).toEqual(ids.map((id) => `runs/${id}`).sort());
    });
    for (const client of [identity, experiments, runs, audit]) client.close();
  });

  it('on PostgreSQL, concurrent identical params both succeed and concurrent finishes publish run.finished once', async () => {
    const governanceAddress = governance.services[0].grpcAddress;
    const trackingAddress = tracking.services[0].grpcAddress;
    const { token } = await createGrpcClient(TokenServiceDesc, governanceAddress).exchangeApiKey({ apiKey: ADMIN_KEY });
    const identity = createGrpcClient(IdentityServiceDesc, governanceAddress, { token });
    const { project } = await identity.createProject({ name: 'tracking-races' });
    const fresh = (await createGrpcClient(TokenServiceDesc, governanceAddress).exchangeApiKey({ apiKey: ADMIN_KEY })).token;
    const experiments = createGrpcClient(ExperimentServiceDesc, trackingAddress, { token: fresh });
    const runs = createGrpcClient(RunServiceDesc, trackingAddress, { token: fresh });
    const { experiment } = await experiments.createExperiment({ projectId: project!.id, name: 'races' });
    const { run } = await runs.createRun({ experimentId: experiment!.id });
    const runId = run!.info!.id;

    const finished: string[] = [];
    const subscription = await tracking.runtime.bus.subscribe({
      durable: 'tracking-races-spec',
      subject: 'trellis.tracking.v1.run.finished',
      handler: async (envelope) => void finished.push(fromBinary(RunFinishedEventSchema, envelope.payload).runInfo?.id ?? ''),
    });
    const params = Array.from({ length: 4 }, () => runs.logBatch({ runId, params: [{ key: 'lr', value: '0.1' }, { key: 'depth', value: '3' }] }));
    await expect(Promise.all(params)).resolves.toHaveLength(4);
    await Promise.all(Array.from({ length: 4 }, () => runs.updateRun({ runId, status: RunStatus.FINISHED, updateMask: { paths: ['status'] } })));
    // Events leave the outbox in order: once a later run's has arrived, a second one of this run would have too.
    const { run: next } = await runs.createRun({ experimentId: experiment!.id });
    await runs.updateRun({ runId: next!.info!.id, status: RunStatus.FINISHED, updateMask: { paths: ['status'] } });
    await eventually(() => expect(finished).toContain(next!.info!.id));
    expect(finished.filter((id) => id === runId)).toHaveLength(1);
    await subscription.stop();
    for (const client of [identity, experiments, runs]) client.close();
  });
});

import 'reflect-metadata';
import { governanceService, issueServiceKeyAsOperator } from '@trellis/governance';
import { computeService } from '@trellis/compute';
import { createGrpcClient, loadConfig, runProcess, type RunningProcess } from '@trellis/platform';
import { definePlugin, z } from '@trellis/plugin-sdk';
import { MemoryComputeBackend } from '@trellis/plugin-sdk/testing';
import { AuditServiceDesc, IdentityServiceDesc, JobServiceDesc, JobState, QueueServiceDesc, TokenServiceDesc } from '@trellis/proto';
import { closedPort, createTestDatabase, eventually, testNatsConfig, type TestDatabase, type TestNatsConfig } from '@trellis/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ADMIN_KEY = `trellis_0000000000000001_${'A'.repeat(43)}`;

/** A cluster whose jobs run in the test process (`echo`, `exit`, `sleep`). */
const memoryCompute = definePlugin({ manifest: { kind: 'compute', id: 'compute-memory', apiVersion: 'v1' }, configSchema: z.object({}), create: () => new MemoryComputeBackend() });

describe('compute as its own process beside governance (distributed: PostgreSQL, NATS JetStream)', () => {
  const databases: Array<TestDatabase<{ type: 'postgres'; url: string }>> = [];
  let nats: TestNatsConfig;
  let governance: RunningProcess;
  let service: RunningProcess;
  const dataDir = mkdtempSync(join(tmpdir(), 'trellis-compute-'));
  const saved = { ...process.env };

  beforeAll(async () => {
    const [governanceDb, ownDb] = [await createTestDatabase(), await createTestDatabase()];
    databases.push(governanceDb, ownDb);
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
    // Compute acts for jobs' submitters as its own account: an operator issues its key. No job here
    // names an experiment or a dataset, so it never calls tracking or data, whose addresses are only settings here.
    process.env.SPEC_COMPUTE_KEY = (await issueServiceKeyAsOperator(loadConfig({ services: ['governance'] }), 'compute')).secret;
    Object.assign(process.env, {
      TRELLIS_COMPUTE_CREDENTIAL: 'env:SPEC_COMPUTE_KEY',
      TRELLIS_GOVERNANCE_ADDRESS: governance.services[0].grpcAddress,
      TRELLIS_TRACKING_ADDRESS: `127.0.0.1:${await closedPort()}`,
      TRELLIS_DATA_ADDRESS: `127.0.0.1:${await closedPort()}`,
      TRELLIS_COMPUTE_DATABASE_URL: ownDb.config.url,
      TRELLIS_CONFIG: join(dataDir, 'trellis.yaml'),
      TRELLIS_COMPUTE_PORT: '0',
      TRELLIS_AUTH_JWKS_URL: `${governance.opsAddress}/.well-known/jwks.json`,
    });
    writeFileSync(join(dataDir, 'trellis.yaml'), 'compute:\n  local:\n    plugin: compute-memory\n');
    service = await runProcess({ mode: 'distributed', services: [computeService], plugins: [memoryCompute], print: () => undefined });
  });

  afterAll(async () => {
    await service?.stop();
    await governance?.stop();
    process.env = saved;
    await nats?.cleanup();
    for (const database of databases) await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("accepts governance's tokens, runs a job from PostgreSQL, and its audit records reach governance's chain", async () => {
    const governanceAddress = governance.services[0].grpcAddress;
    const tokens = createGrpcClient(TokenServiceDesc, governanceAddress);
    const identity = createGrpcClient(IdentityServiceDesc, governanceAddress, { token: (await tokens.exchangeApiKey({ apiKey: ADMIN_KEY })).token });
    const projectId = (await identity.createProject({ name: 'compute-distributed' })).project!.id;
    // Tokens minted now carry the new project's binding.
    const { token } = await tokens.exchangeApiKey({ apiKey: ADMIN_KEY });
    const queues = createGrpcClient(QueueServiceDesc, service.services[0].grpcAddress, { token });
    const jobs = createGrpcClient(JobServiceDesc, service.services[0].grpcAddress, { token });
    const audit = createGrpcClient(AuditServiceDesc, governanceAddress, { token });

    await queues.createQueue({ queue: { name: 'first', cluster: 'local' } });
    await queues.setGrant({ queue: 'first', projectId, quotas: [{ resource: 'cpu', nominal: 4000n }, { resource: 'memory', nominal: 8n * 1024n ** 3n }] });
    const { job } = await jobs.submitJob({ projectId, queue: 'first', spec: { name: 'hello', command: ['echo', 'hello'] } });
    await eventually(async () => expect((await jobs.getJob({ jobId: job!.id })).job?.state).toBe(JobState.SUCCEEDED));
    await eventually(async () => {
      const { records } = await audit.listAuditRecords({ pageSize: 1000 });
      expect(records.map((record) => record.event?.method)).toEqual(expect.arrayContaining(['trellis.compute.v1.QueueService/CreateQueue', 'trellis.compute.v1.JobService/SubmitJob']));
    });
    for (const made of [tokens, identity, queues, jobs, audit]) made.close();
  });
});

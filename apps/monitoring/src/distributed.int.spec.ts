import 'reflect-metadata';
import { governanceService, issueServiceKeyAsOperator } from '@trellis/governance';
import { monitoringService } from '@trellis/monitoring';
import { createGrpcClient, loadConfig, runProcess, type RunningProcess } from '@trellis/platform';
import driftStats from '@trellis/plugin-drift-stats';
import { AuditServiceDesc, IdentityServiceDesc, TokenServiceDesc, MonitoringServiceDesc } from '@trellis/proto';
import { createTestDatabase, eventually, testNatsConfig, type TestDatabase, type TestNatsConfig } from '@trellis/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ADMIN_KEY = `trellis_0000000000000001_${'A'.repeat(43)}`;

describe('monitoring as its own process beside governance (distributed: PostgreSQL, NATS JetStream)', () => {
  const databases: Array<TestDatabase<{ type: 'postgres'; url: string }>> = [];
  let nats: TestNatsConfig;
  let governance: RunningProcess;
  let service: RunningProcess;
  const dataDir = mkdtempSync(join(tmpdir(), 'trellis-monitoring-'));
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
    // Monitoring fits references of monitors whose profile comes later as its own service account.
    // The monitor here takes its reference from its own logs, so the services it would call for
    // lineage are never reached.
    process.env.SPEC_MONITORING_KEY = (await issueServiceKeyAsOperator(loadConfig({ services: ['governance'] }), 'monitoring')).secret;
    Object.assign(process.env, {
      TRELLIS_MONITORING_CREDENTIAL: 'env:SPEC_MONITORING_KEY',
      TRELLIS_MONITORING_DATABASE_URL: ownDb.config.url,
      TRELLIS_MONITORING_PORT: '0',
      TRELLIS_GOVERNANCE_ADDRESS: governance.services[0].grpcAddress,
      TRELLIS_SERVING_ADDRESS: '127.0.0.1:1',
      TRELLIS_REGISTRY_ADDRESS: '127.0.0.1:1',
      TRELLIS_TRACKING_ADDRESS: '127.0.0.1:1',
      TRELLIS_DATA_ADDRESS: '127.0.0.1:1',
      TRELLIS_AUTH_JWKS_URL: `${governance.opsAddress}/.well-known/jwks.json`,
    });
    service = await runProcess({ mode: 'distributed', services: [monitoringService], plugins: [driftStats], print: () => undefined });
  });

  afterAll(async () => {
    await service?.stop();
    await governance?.stop();
    process.env = saved;
    await nats?.cleanup();
    for (const database of databases) await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("accepts governance's tokens, keeps its monitors in PostgreSQL, and its audit records reach governance's chain", async () => {
    const governanceAddress = governance.services[0].grpcAddress;
    const tokens = createGrpcClient(TokenServiceDesc, governanceAddress);
    const identity = createGrpcClient(IdentityServiceDesc, governanceAddress, { token: (await tokens.exchangeApiKey({ apiKey: ADMIN_KEY })).token });
    const projectId = (await identity.createProject({ name: 'monitoring-distributed' })).project!.id;
    // Tokens minted now carry the new project's binding.
    const { token } = await tokens.exchangeApiKey({ apiKey: ADMIN_KEY });
    const client = createGrpcClient(MonitoringServiceDesc, service.services[0].grpcAddress, { token });
    const audit = createGrpcClient(AuditServiceDesc, governanceAddress, { token });

    const created = (await client.createMonitor({ projectId, name: 'first', endpoint: { endpointName: 'churn' }, reference: { kind: { case: 'logWindow', value: { rows: 100n } } } }))
      .monitor!;
    expect((await client.listMonitors({ projectId })).monitors.map(({ id }) => id)).toEqual([created.id]);
    await eventually(async () => {
      const { records } = await audit.listAuditRecords({ pageSize: 1000 });
      expect(records.map((record) => record.event?.method)).toContain('trellis.monitoring.v1.MonitoringService/CreateMonitor');
    });
    for (const made of [tokens, identity, client, audit]) made.close();
  });
});

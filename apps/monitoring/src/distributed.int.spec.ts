import 'reflect-metadata';
import { governanceService } from '@trellis/governance';
import { monitoringService } from '@trellis/monitoring';
import { createGrpcClient, runProcess, type RunningProcess } from '@trellis/platform';
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
    Object.assign(process.env, {
      TRELLIS_MONITORING_DATABASE_URL: ownDb.config.url,
      TRELLIS_MONITORING_PORT: '0',
      TRELLIS_AUTH_JWKS_URL: `${governance.opsAddress}/.well-known/jwks.json`,
    });
    service = await runProcess({ mode: 'distributed', services: [monitoringService], print: () => undefined });
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

    const created = (await client.createMonitor({ projectId, name: 'first' })).monitor!;
    expect((await client.listMonitors({ projectId })).monitors.map(({ id }) => id)).toEqual([created.id]);
    await eventually(async () => {
      const { records } = await audit.listAuditRecords({ pageSize: 1000 });
      expect(records.map((record) => record.event?.method)).toContain('trellis.monitoring.v1.MonitoringService/CreateMonitor');
    });
    for (const made of [tokens, identity, client, audit]) made.close();
  });
});

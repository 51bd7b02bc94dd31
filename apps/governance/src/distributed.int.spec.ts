import 'reflect-metadata';
import { governanceService } from '@trellis/governance';
import { createGrpcClient, runProcess, type RunningProcess } from '@trellis/platform';
import { AuditServiceDesc, IdentityServiceDesc, TokenServiceDesc } from '@trellis/proto';
import { createTestDatabase, eventually, testNatsConfig, type TestDatabase, type TestNatsConfig } from '@trellis/testing';

const ADMIN_KEY = `trellis_00000000000000aa_${'B'.repeat(43)}`;

describe('governance as its own process (distributed: PostgreSQL, NATS JetStream)', () => {
  let database: TestDatabase<{ type: 'postgres'; url: string }>;
  let nats: TestNatsConfig;
  let running: RunningProcess;
  const saved = { ...process.env };

  beforeAll(async () => {
    database = await createTestDatabase();
    nats = testNatsConfig();
    Object.assign(process.env, {
      TRELLIS_MODE: 'distributed',
      TRELLIS_GOVERNANCE_DATABASE_URL: database.config.url,
      TRELLIS_GOVERNANCE_PORT: '0',
      TRELLIS_OPS_PORT: '0',
      TRELLIS_LOG_LEVEL: 'silent',
      ...nats.env,
      TRELLIS_GOVERNANCE_ADMIN_KEY: ADMIN_KEY,
    });
    running = await runProcess({ mode: 'distributed', services: [governanceService], print: () => undefined });
  });

  afterAll(async () => {
    await running?.stop();
    process.env = saved;
    await nats?.cleanup();
    await database?.drop();
  });

  it('takes the admin key from TRELLIS_GOVERNANCE_ADMIN_KEY, and its audit log fills through JetStream', async () => {
    const [governance] = running.services;
    const { token } = await createGrpcClient(TokenServiceDesc, governance.grpcAddress).exchangeApiKey({ apiKey: ADMIN_KEY });
    const identity = createGrpcClient(IdentityServiceDesc, governance.grpcAddress, { token });
    const { project } = await identity.createProject({ name: 'distributed' });
    expect(project?.name).toBe('distributed');

    const audit = createGrpcClient(AuditServiceDesc, governance.grpcAddress, { token });
    await eventually(async () => {
      const { records } = await audit.listAuditRecords({});
      const created = records.filter((record) => record.event?.method === 'trellis.governance.v1.IdentityService/CreateProject');
      // Recorded once, in the transaction that created the project, naming it and its project.
      expect(created).toHaveLength(1);
      expect(created[0].event).toMatchObject({ resource: `projects/${project!.id}`, projectId: project!.id, actor: expect.any(String) });
    });
    expect(await audit.verifyAuditChain({})).toMatchObject({ intact: true });
    for (const client of [identity, audit]) client.close();
  });
});

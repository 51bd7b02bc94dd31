import 'reflect-metadata';
import { governanceService, issueServiceKeyAsOperator } from '@trellis/governance';
import { createGrpcClient, loadConfig, runProcess, type RunningProcess } from '@trellis/platform';
import storageFs from '@trellis/plugin-storage-fs';
import { AuditServiceDesc, EndpointServiceDesc, IdentityServiceDesc, RegistryServiceDesc, TokenServiceDesc } from '@trellis/proto';
import { registryService } from '@trellis/registry';
import { servingService } from '@trellis/serving';
import { createTestDatabase, eventually, testNatsConfig, type TestDatabase, type TestNatsConfig } from '@trellis/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryRuntime } from './memory-runtime.fixture';

const ADMIN_KEY = `trellis_0000000000000001_${'A'.repeat(43)}`;


describe('serving as its own process beside governance and the registry (distributed: PostgreSQL, NATS JetStream)', () => {
  const databases: Array<TestDatabase<{ type: 'postgres'; url: string }>> = [];
  let nats: TestNatsConfig;
  let governance: RunningProcess;
  let registry: RunningProcess;
  let service: RunningProcess;
  const dataDir = mkdtempSync(join(tmpdir(), 'trellis-serving-'));
  const saved = { ...process.env };

  beforeAll(async () => {
    const [governanceDb, registryDb, ownDb] = [await createTestDatabase(), await createTestDatabase(), await createTestDatabase()];
    databases.push(governanceDb, registryDb, ownDb);
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
    // The registry runs work as its own service account: an operator issues its key. Versions here
    // are references, so it never calls tracking.
    process.env.SPEC_REGISTRY_KEY = (await issueServiceKeyAsOperator(loadConfig({ services: ['governance'] }), 'registry')).secret;
    Object.assign(process.env, {
      TRELLIS_REGISTRY_CREDENTIAL: 'env:SPEC_REGISTRY_KEY',
      TRELLIS_TRACKING_ADDRESS: '127.0.0.1:1',
      TRELLIS_REGISTRY_DATABASE_URL: registryDb.config.url,
      TRELLIS_REGISTRY_PORT: '0',
      TRELLIS_GOVERNANCE_ADDRESS: governance.services[0].grpcAddress,
      TRELLIS_AUTH_JWKS_URL: `${governance.opsAddress}/.well-known/jwks.json`,
    });
    registry = await runProcess({ mode: 'distributed', services: [registryService], plugins: [storageFs], print: () => undefined });
    writeFileSync(join(dataDir, 'trellis.yaml'), 'runtime:\n  memory:\n    plugin: runtime-memory\n');
    // Serving fetches revisions' files from the registry as its own service account.
    process.env.SPEC_SERVING_KEY = (await issueServiceKeyAsOperator(loadConfig({ services: ['governance'] }), 'serving')).secret;
    Object.assign(process.env, {
      TRELLIS_SERVING_CREDENTIAL: 'env:SPEC_SERVING_KEY',
      TRELLIS_SERVING_HTTP_PORT: '0',
      TRELLIS_CONFIG: join(dataDir, 'trellis.yaml'),
      TRELLIS_SERVING_DATABASE_URL: ownDb.config.url,
      TRELLIS_SERVING_PORT: '0',
      TRELLIS_REGISTRY_ADDRESS: registry.services[0].grpcAddress,
    });
    service = await runProcess({ mode: 'distributed', services: [servingService], plugins: [memoryRuntime], print: () => undefined });
  });

  afterAll(async () => {
    await service?.stop();
    await registry?.stop();
    await governance?.stop();
    process.env = saved;
    await nats?.cleanup();
    for (const database of databases) await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("accepts governance's tokens, resolves a model through the registry's process, keeps its endpoints in PostgreSQL, and its audit records reach governance's chain", async () => {
    const governanceAddress = governance.services[0].grpcAddress;
    const tokens = createGrpcClient(TokenServiceDesc, governanceAddress);
    const identity = createGrpcClient(IdentityServiceDesc, governanceAddress, { token: (await tokens.exchangeApiKey({ apiKey: ADMIN_KEY })).token });
    const projectId = (await identity.createProject({ name: 'serving-distributed' })).project!.id;
    // Tokens minted now carry the new project's binding.
    const { token } = await tokens.exchangeApiKey({ apiKey: ADMIN_KEY });
    const models = createGrpcClient(RegistryServiceDesc, registry.services[0].grpcAddress, { token });
    const client = createGrpcClient(EndpointServiceDesc, service.services[0].grpcAddress, { token });
    const audit = createGrpcClient(AuditServiceDesc, governanceAddress, { token });
    await models.createModel({ projectId, name: 'churn' });
    await models.createVersion({ projectId, modelName: 'churn', source: 's3://models/churn/model.onnx', format: 'onnx' });
    await models.setAlias({ projectId, modelName: 'churn', alias: 'champion', version: 1n });

    const created = (await client.createEndpoint({ projectId, name: 'first', model: 'models:/churn@champion' })).endpoint!;
    expect(created.revisions.map(({ modelVersion, resolvedAlias, runtime }) => ({ modelVersion, resolvedAlias, runtime }))).toEqual([{ modelVersion: 1n, resolvedAlias: 'champion', runtime: 'memory' }]);
    expect((await client.listEndpoints({ projectId })).endpoints.map(({ id }) => id)).toEqual([created.id]);
    await eventually(async () => {
      const { records } = await audit.listAuditRecords({ pageSize: 1000 });
      expect(records.map((record) => record.event?.method)).toContain('trellis.serving.v1.EndpointService/CreateEndpoint');
    });
    for (const made of [tokens, identity, models, client, audit]) made.close();
  });
});

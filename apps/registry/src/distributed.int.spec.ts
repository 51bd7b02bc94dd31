import 'reflect-metadata';
import { status } from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { governanceService, issueServiceKeyAsOperator } from '@trellis/governance';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import { createGrpcClient, loadConfig, runProcess, type GrpcClient, type RunningProcess } from '@trellis/platform';
import storageFs from '@trellis/plugin-storage-fs';
import {
  ApprovalServiceDesc,
  ArtifactServiceDesc,
  AuditServiceDesc,
  ExperimentServiceDesc,
  IdentityServiceDesc,
  ModelVersionStatus,
  PrincipalKind,
  RegistryServiceDesc,
  Role,
  RunServiceDesc,
  TokenServiceDesc,
} from '@trellis/proto';
import { registryService } from '@trellis/registry';
import { createTestDatabase, eventually, testNatsConfig, type TestDatabase, type TestNatsConfig } from '@trellis/testing';
import { trackingService } from '@trellis/tracking';

const ADMIN_KEY = `trellis_00000000000000ae_${'R'.repeat(43)}`;

describe('registry as its own process beside tracking and governance (distributed: PostgreSQL, NATS JetStream)', () => {
  const databases: Array<TestDatabase<{ type: 'postgres'; url: string }>> = [];
  const processes: RunningProcess[] = [];
  const dirs = [mkdtempSync(join(tmpdir(), 'trellis-registry-')), mkdtempSync(join(tmpdir(), 'trellis-registry-'))];
  let nats: TestNatsConfig;
  const saved = { ...process.env };

  const start = async (services: Parameters<typeof runProcess>[0]['services'], env: Record<string, string>) => {
    Object.assign(process.env, env);
    const running = await runProcess({ mode: 'distributed', services, plugins: [storageFs], print: () => undefined });
    processes.push(running);
    return running.services[0].grpcAddress;
  };

  let governanceAddress: string;
  let trackingAddress: string;
  let registryAddress: string;

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) databases.push(await createTestDatabase());
    nats = testNatsConfig();
    Object.assign(process.env, {
      TRELLIS_MODE: 'distributed',
      TRELLIS_OPS_PORT: '0',
      TRELLIS_LOG_LEVEL: 'silent',
      ...nats.env,
      TRELLIS_GOVERNANCE_ADMIN_KEY: ADMIN_KEY,
    });
    governanceAddress = await start([governanceService], { TRELLIS_DATA_DIR: dirs[0], TRELLIS_GOVERNANCE_DATABASE_URL: databases[0].config.url, TRELLIS_GOVERNANCE_PORT: '0' });
    process.env.TRELLIS_AUTH_JWKS_URL = `${processes[0].opsAddress}/.well-known/jwks.json`;
    trackingAddress = await start([trackingService], { TRELLIS_TRACKING_DATABASE_URL: databases[1].config.url, TRELLIS_TRACKING_PORT: '0', TRELLIS_GOVERNANCE_ADDRESS: governanceAddress });
    // The registry copies as its own service account: an operator issues its key, which it reads from the environment.
    process.env.SPEC_REGISTRY_KEY = (await issueServiceKeyAsOperator(loadConfig({ services: ['governance'] }), 'registry')).secret;
    registryAddress = await start([registryService], {
      TRELLIS_REGISTRY_CREDENTIAL: 'env:SPEC_REGISTRY_KEY',
      TRELLIS_DATA_DIR: dirs[1],
      TRELLIS_REGISTRY_DATABASE_URL: databases[2].config.url,
      TRELLIS_REGISTRY_PORT: '0',
      TRELLIS_TRACKING_ADDRESS: trackingAddress,
      TRELLIS_GOVERNANCE_ADDRESS: governanceAddress,
    });
  });

  afterAll(async () => {
    for (const running of processes.reverse()) await running.stop();
    process.env = saved;
    await nats?.cleanup();
    for (const database of databases) await database.drop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('copies from tracking, numbers concurrent versions without gaps on PostgreSQL, and moves a protected alias with an approval', async () => {
    const tokens = createGrpcClient(TokenServiceDesc, governanceAddress);
    const adminToken = (await tokens.exchangeApiKey({ apiKey: ADMIN_KEY })).token;
    const identity = createGrpcClient(IdentityServiceDesc, governanceAddress, { token: adminToken });
    const projectId = (await identity.createProject({ name: 'registry-distributed' })).project!.id;
    const bobId = (await identity.createPrincipal({ kind: PrincipalKind.USER, name: 'bob', displayName: 'Bob' })).principal!.id;
    await identity.setRoleBinding({ binding: { projectId, principalId: bobId, role: Role.EDITOR } });
    // Tokens minted now carry the new project's bindings.
    const admin = (await tokens.exchangeApiKey({ apiKey: ADMIN_KEY })).token;
    const bobKey = (await createGrpcClient(TokenServiceDesc, governanceAddress, { token: admin }).createApiKey({ principalId: bobId, name: 'bob' })).secret;
    const bob = (await tokens.exchangeApiKey({ apiKey: bobKey })).token;
    const clients: Array<{ close(): void }> = [tokens, identity];
    const client = <T extends GenServiceMethods>(service: GenService<T>, address: string, token: string): GrpcClient<T> => {
      const made = createGrpcClient(service, address, { token });
      clients.push(made);
      return made;
    };

    const experimentId = (await client(ExperimentServiceDesc, trackingAddress, admin).createExperiment({ projectId, name: 'pg' })).experiment!.id;
    const runId = (await client(RunServiceDesc, trackingAddress, admin).createRun({ experimentId })).run!.info!.id;
    await client(ArtifactServiceDesc, trackingAddress, admin).uploadArtifact([
      { part: { case: 'header', value: { runId, path: 'model/model.onnx' } } },
      { part: { case: 'chunk', value: Buffer.from('onnx bytes') } },
    ]);

    const registry = client(RegistryServiceDesc, registryAddress, admin);
    // PostgreSQL refuses a NUL character: a bad request, not an internal error.
    await expect(registry.createModel({ projectId, name: 'nul\u0000name' })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    await registry.createModel({ projectId, name: 'churn', protectedAliases: ['champion'] });
    await registry.createVersion({ projectId, modelName: 'churn', source: `runs:/${runId}/model` });
    expect((await registry.waitVersion({ projectId, modelName: 'churn', version: 1n }, { timeoutMs: 30_000 })).version?.status).toBe(ModelVersionStatus.READY);
    const chunks: Buffer[] = [];
    for await (const piece of registry.downloadVersionFile({ projectId, modelName: 'churn', version: 1n, path: 'model.onnx' })) chunks.push(Buffer.from(piece.chunk));
    expect(Buffer.concat(chunks).toString()).toBe('onnx bytes');

    const created = await Promise.all(Array.from({ length: 10 }, (_, i) => registry.createVersion({ projectId, modelName: 'churn', source: `s3://bucket/m${i}` })));
    expect(created.map((response) => Number(response.version!.version)).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);

    const approvalId = (await client(ApprovalServiceDesc, governanceAddress, admin).requestApproval({
      projectId,
      action: 'registry.alias.set',
      resource: `projects/${projectId}/models/churn/aliases/champion`,
      details: { version: '1' },
    })).approval!.id;
    await client(ApprovalServiceDesc, governanceAddress, bob).approve({ approvalId });
    const change = (await registry.setAlias({ projectId, modelName: 'churn', alias: 'champion', version: 1n, approvalId })).change!;
    expect(change).toMatchObject({ fromVersion: 0n, toVersion: 1n, approvalId });
    expect((await client(RegistryServiceDesc, registryAddress, bob).getVersionByAlias({ projectId, modelName: 'churn', alias: 'champion' })).version?.version).toBe(1n);

    const audit = client(AuditServiceDesc, governanceAddress, admin);
    await eventually(async () => {
      const { records } = await audit.listAuditRecords({ pageSize: 1000 });
      const methods = records.map((record) => record.event?.method);
      expect(methods.filter((method) => method === 'trellis.registry.v1.RegistryService/CreateVersion')).toHaveLength(11);
      expect(records.find((record) => record.event?.method === 'trellis.registry.v1.RegistryService/SetAlias')?.event?.resource).toBe(`projects/${projectId}/models/churn/aliases/champion`);
    });
    for (const made of clients) made.close();
  });
});

describe('the registry program in distributed mode without its neighbours', () => {
  const saved = { ...process.env };

  afterEach(() => {
    process.env = { ...saved };
  });

  it('refuses to start, naming the address settings of tracking and governance, before it connects to anything', async () => {
    for (const variable of ['TRELLIS_TRACKING_ADDRESS', 'TRELLIS_GOVERNANCE_ADDRESS']) delete process.env[variable];
    Object.assign(process.env, { TRELLIS_MODE: 'distributed', TRELLIS_AUTH_JWKS_URL: 'http://127.0.0.1:1/.well-known/jwks.json', TRELLIS_NATS_URL: 'nats://127.0.0.1:1' });
    await expect(runProcess({ mode: 'distributed', services: [registryService], plugins: [storageFs], print: () => undefined })).rejects.toThrow(
      'registry calls tracking and governance, which this process does not run: set services.tracking.address (TRELLIS_TRACKING_ADDRESS) and services.governance.address (TRELLIS_GOVERNANCE_ADDRESS) to host:port of their gRPC servers',
    );
  });

  it('refuses to start without its own credential, naming the setting and how to get one', async () => {
    delete process.env.TRELLIS_REGISTRY_CREDENTIAL;
    Object.assign(process.env, {
      TRELLIS_MODE: 'distributed',
      TRELLIS_AUTH_JWKS_URL: 'http://127.0.0.1:1/.well-known/jwks.json',
      TRELLIS_NATS_URL: 'nats://127.0.0.1:1',
      TRELLIS_TRACKING_ADDRESS: '127.0.0.1:1',
      TRELLIS_GOVERNANCE_ADDRESS: '127.0.0.1:1',
    });
    await expect(runProcess({ mode: 'distributed', services: [registryService], plugins: [storageFs], print: () => undefined })).rejects.toThrow(
      'registry runs work as its own service account, so it needs a credential: set services.registry.credential (TRELLIS_REGISTRY_CREDENTIAL) to env:<VARIABLE> or file:/path holding its API key (`npm run service-key -- registry` issues one)',
    );
  });
});

import 'reflect-metadata';
import { status } from '@grpc/grpc-js';
import { gatewayEdge } from '@trellis/gateway';
import { governanceService } from '@trellis/governance';
import { createGrpcClient, runProcess, type RunningProcess } from '@trellis/platform';
import storageFs from '@trellis/plugin-storage-fs';
import { ExperimentServiceDesc, IdentityServiceDesc, PrincipalKind, Role, TokenServiceDesc } from '@trellis/proto';
import { createTestDatabase, eventually, testNatsConfig, type TestDatabase, type TestNatsConfig } from '@trellis/testing';
import { trackingService } from '@trellis/tracking';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ADMIN_KEY = `trellis_00000000000000ad_${'R'.repeat(43)}`;
/** The requirement: a revoked key or a removed binding stops working everywhere within 2 seconds. */
const WITHIN = { timeoutMs: 2000 };

describe('revocation in distributed mode: governance, tracking and the gateway each in its own process (PostgreSQL, NATS JetStream)', () => {
  const databases: Array<TestDatabase<{ type: 'postgres'; url: string }>> = [];
  const processes: RunningProcess[] = [];
  let nats: TestNatsConfig;
  let governanceAddress: string;
  let trackingAddress: string;
  let gatewayUrl: string;
  let projectId: string;
  let otherProjectId: string;
  const dataDir = mkdtempSync(join(tmpdir(), 'trellis-revocation-'));
  const saved = { ...process.env };

  /** Starts a process on the environment as it is now plus `env`, as its own container would. */
  const start = async (env: Record<string, string>, plan: Omit<Parameters<typeof runProcess>[0], 'mode' | 'print'>) => {
    Object.assign(process.env, env);
    const running = await runProcess({ mode: 'distributed', print: () => undefined, ...plan });
    processes.push(running);
    return running;
  };

  beforeAll(async () => {
    const [governanceDb, trackingDb] = [await createTestDatabase(), await createTestDatabase()];
    databases.push(governanceDb, trackingDb);
    nats = testNatsConfig();
    Object.assign(process.env, { TRELLIS_MODE: 'distributed', TRELLIS_DATA_DIR: dataDir, TRELLIS_OPS_PORT: '0', TRELLIS_LOG_LEVEL: 'silent', ...nats.env });
    const governance = await start(
      { TRELLIS_GOVERNANCE_ADMIN_KEY: ADMIN_KEY, TRELLIS_GOVERNANCE_DATABASE_URL: governanceDb.config.url, TRELLIS_GOVERNANCE_PORT: '0' },
      { services: [governanceService] },
    );
    governanceAddress = governance.services[0].grpcAddress;
    const tracking = await start(
      {
        TRELLIS_TRACKING_DATABASE_URL: trackingDb.config.url,
        TRELLIS_TRACKING_PORT: '0',
        TRELLIS_AUTH_JWKS_URL: `${governance.opsAddress}/.well-known/jwks.json`,
        TRELLIS_GOVERNANCE_ADDRESS: governanceAddress,
      },
      { services: [trackingService], plugins: [storageFs] },
    );
    trackingAddress = tracking.services[0].grpcAddress;
    const gateway = await start(
      { TRELLIS_GATEWAY_PORT: '0', TRELLIS_GATEWAY_UPSTREAM_GOVERNANCE: governanceAddress, TRELLIS_GATEWAY_UPSTREAM_TRACKING: trackingAddress },
      { services: [], edges: [gatewayEdge] },
    );
    gatewayUrl = gateway.edges[0].address;

    const identity = createGrpcClient(IdentityServiceDesc, governanceAddress, { token: await exchange(ADMIN_KEY) });
    projectId = (await identity.createProject({ name: 'revoked' })).project!.id;
    otherProjectId = (await identity.createProject({ name: 'kept' })).project!.id;
    identity.close();
    const experiments = createGrpcClient(ExperimentServiceDesc, trackingAddress, { token: await exchange(ADMIN_KEY) });
    for (const id of [projectId, otherProjectId]) await experiments.createExperiment({ projectId: id, name: 'exp' });
    experiments.close();
  });

  afterAll(async () => {
    for (const running of processes.reverse()) await running.stop();
    process.env = saved;
    await nats?.cleanup();
    for (const database of databases) await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function exchange(apiKey: string): Promise<string> {
    const tokens = createGrpcClient(TokenServiceDesc, governanceAddress);
    try {
      return (await tokens.exchangeApiKey({ apiKey })).token;
    } finally {
      tokens.close();
    }
  }
  const asAdmin = async () => ({
    identity: createGrpcClient(IdentityServiceDesc, governanceAddress, { token: await exchange(ADMIN_KEY) }),
    tokens: createGrpcClient(TokenServiceDesc, governanceAddress, { token: await exchange(ADMIN_KEY) }),
  });
  /** The HTTP status the gateway answers for the experiment of `project`, sending `apiKey`. */
  const throughGateway = async (apiKey: string, project = projectId) =>
    (
      await fetch(`${gatewayUrl}/v1/${ExperimentServiceDesc.typeName}/GetExperimentByName`, {
        method: 'POST',
        body: JSON.stringify({ projectId: project, name: 'exp' }),
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      })
    ).status;
  /** What tracking answers `token` for the experiment of `project`: 'ok', or the refusal. */
  const atTracking = (token: string, project = projectId) => {
    const experiments = createGrpcClient(ExperimentServiceDesc, trackingAddress, { token });
    return experiments
      .getExperimentByName({ projectId: project, name: 'exp' })
      .then(
        () => 'ok',
        (error: { code: number; details: string }) => (error.code === status.UNAUTHENTICATED ? error.details : `code ${error.code}`),
      )
      .finally(() => experiments.close());
  };

  it('refuses a revoked API key at the gateway, and a token issued for it at tracking, within 2 s', async () => {
    const admin = await asAdmin();
    const { apiKey, secret } = await admin.tokens.createApiKey({ name: 'to-revoke' });
    const issuedBefore = await exchange(secret);
    expect(await throughGateway(secret)).toBe(200);
    expect(await atTracking(issuedBefore)).toBe('ok');

    await admin.tokens.revokeApiKey({ apiKeyId: apiKey!.id });

    await eventually(async () => expect(await throughGateway(secret)).toBe(401), WITHIN);
    await eventually(async () => expect(await atTracking(issuedBefore)).toBe(`token revoked: its API key ${apiKey!.id} was revoked`), WITHIN);
    expect(await throughGateway(ADMIN_KEY)).toBe(200);
    admin.identity.close();
    admin.tokens.close();
  });

  it("stops a removed binding's access to its project within 2 s, at tracking and through the gateway, and keeps the roles left", async () => {
    const admin = await asAdmin();
    const botId = (await admin.identity.createPrincipal({ kind: PrincipalKind.SERVICE_ACCOUNT, name: 'bot' })).principal!.id;
    for (const [project, role] of [
      [projectId, Role.EDITOR],
      [otherProjectId, Role.VIEWER],
    ] as const) {
      await admin.identity.setRoleBinding({ binding: { projectId: project, principalId: botId, role } });
    }
    const botKey = (await admin.tokens.createApiKey({ principalId: botId, name: 'ci' })).secret;
    const issuedBefore = await exchange(botKey);
    expect(await atTracking(issuedBefore)).toBe('ok');
    expect(await throughGateway(botKey)).toBe(200);

    await admin.identity.deleteRoleBinding({ projectId, principalId: botId });

    await eventually(async () => expect(await atTracking(issuedBefore)).toMatch(/^token revoked: the roles of .+ were reduced after it was issued/), WITHIN);
    await eventually(async () => expect(await throughGateway(botKey)).toBe(403), WITHIN);
    expect(await throughGateway(botKey, otherProjectId)).toBe(200);
    expect(await atTracking(await exchange(botKey), otherProjectId)).toBe('ok');
    admin.identity.close();
    admin.tokens.close();
  });
});

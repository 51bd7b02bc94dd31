import 'reflect-metadata';
import { status } from '@grpc/grpc-js';
import { createGrpcClient, runProcess, ServiceIdentity, type RunningProcess } from '@trellis/platform';
import { definePlugin, type ObjectStore } from '@trellis/plugin-sdk';
import { FsObjectStore, storageFsConfig } from '@trellis/plugin-storage-fs';
import {
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
import { eventually } from '@trellis/testing';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BUILT_IN_PLUGINS, SERVICES } from './services';

const ADMIN_KEY = `trellis_00000000000000ad_${'B'.repeat(43)}`;
/** The shortest token lifetime governance allows: the copy below outlasts it. */
const TOKEN_TTL_SECONDS = 30;
/** When the token's `exp` claim says it stops being valid, in milliseconds since the epoch. */
const expiryOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as { exp: number }).exp * 1000;

/**
 * The registry's copy of a run's files as its own service account: the standalone program, with
 * tokens that live 30 s, and storage whose first write of a version's file waits until both the
 * creator's token and the registry's first token of its own have expired.
 */
describe('a registry copy that outlasts every token it started with', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-identity-'));
  const saved = { ...process.env };
  let running: RunningProcess;
  /** Runs once, before the first write of a version's file; set by the spec. */
  let beforeFirstVersionWrite: (() => Promise<void>) | undefined;

  const waitingStorage = definePlugin({
    manifest: { kind: 'storage', id: 'storage-waiting', apiVersion: 'v1' },
    configSchema: storageFsConfig,
    async create(ctx, config) {
      const store = await FsObjectStore.open(resolve(config.root), ctx.logger);
      const put: ObjectStore['put'] = async (key, body, options) => {
        const gate = key.startsWith('models/') ? beforeFirstVersionWrite : undefined;
        beforeFirstVersionWrite = undefined;
        await gate?.();
        return store.put(key, body, options);
      };
      // No server-side copy: the registry streams each file through tracking, as this spec follows it.
      return new Proxy(store, { get: (target, name) => (name === 'put' ? put : name === 'copy' ? undefined : (Reflect.get(target, name, target) as unknown)) }) as unknown as ObjectStore;
    },
  });

  const address = (name: string) => running.services.find((service) => service.name === name)!.grpcAddress;
  const tokenFor = async (apiKey: string) => (await createGrpcClient(TokenServiceDesc, address('governance')).exchangeApiKey({ apiKey })).token;

  beforeAll(async () => {
    const configFile = join(dir, 'trellis.yaml');
    writeFileSync(configFile, `storage:\n  default:\n    plugin: storage-waiting\n    config:\n      root: ${JSON.stringify(join(dir, 'data', 'artifacts'))}\n`);
    Object.assign(process.env, {
      TRELLIS_CONFIG: configFile,
      TRELLIS_DATA_DIR: join(dir, 'data'),
      TRELLIS_OPS_PORT: '0',
      TRELLIS_SERVING_HTTP_PORT: '0',
      TRELLIS_LOG_LEVEL: 'silent',
      TRELLIS_GOVERNANCE_ADMIN_KEY: ADMIN_KEY,
      TRELLIS_AUTH_TOKEN_TTL_SECONDS: String(TOKEN_TTL_SECONDS),
    });
    for (const service of SERVICES) process.env[`TRELLIS_${service.name.toUpperCase()}_PORT`] = '0';
    running = await runProcess({ mode: 'standalone', services: SERVICES, plugins: [...BUILT_IN_PLUGINS, waitingStorage], print: () => undefined });
  });

  afterAll(async () => {
    await running?.stop();
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('gave the registry its own service account and a key file readable by its owner only, at the first start', async () => {
    const keyFile = join(dir, 'data', 'keys', 'registry.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyFile, 'utf8').trim()).toMatch(/^trellis_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    const identity = createGrpcClient(IdentityServiceDesc, address('governance'), { token: await tokenFor(ADMIN_KEY) });
    const { principals } = await identity.listPrincipals({});
    expect(principals.find((principal) => principal.name === 'service-registry')).toMatchObject({ kind: PrincipalKind.SERVICE_ACCOUNT, orgAdmin: false, service: 'registry' });
    expect(principals.find((principal) => principal.name === 'admin')?.service).toBe('');
  });

  it("completes READY, as the registry acting for its creator, renewing its own token on the way, and tracking's audit says so", async () => {
    const admin = { token: await tokenFor(ADMIN_KEY) };
    const identity = createGrpcClient(IdentityServiceDesc, address('governance'), admin);
    const project = (await identity.createProject({ name: 'models' })).project!;
    const alice = (await identity.createPrincipal({ kind: PrincipalKind.USER, name: 'alice', displayName: 'Alice' })).principal!;
    await identity.setRoleBinding({ binding: { projectId: project.id, principalId: alice.id, role: Role.EDITOR } });
    const aliceKey = (await createGrpcClient(TokenServiceDesc, address('governance'), admin).createApiKey({ principalId: alice.id, name: 'laptop' })).secret;
    const registryAccount = (await identity.listPrincipals({})).principals.find((principal) => principal.name === 'service-registry')!;

    const aliceToken = await tokenFor(aliceKey);
    const asAlice = { token: aliceToken };
    const experiment = (await createGrpcClient(ExperimentServiceDesc, address('tracking'), asAlice).createExperiment({ projectId: project.id, name: 'churn' })).experiment!;
    const runId = (await createGrpcClient(RunServiceDesc, address('tracking'), asAlice).createRun({ experimentId: experiment.id, runName: 'train' })).run!.info!.id;
    const artifacts = createGrpcClient(ArtifactServiceDesc, address('tracking'), asAlice);
    for (const [path, content] of [['model/weights.bin', 'weights'], ['model/params.json', '{"depth":3}']]) {
      await artifacts.uploadArtifact([{ part: { case: 'header', value: { runId, path } } }, { part: { case: 'chunk', value: Buffer.from(content) } }]);
    }
    const registry = createGrpcClient(RegistryServiceDesc, address('registry'), asAlice);
    await registry.createModel({ projectId: project.id, name: 'churn' });

    const registryIdentity = running.services.find((service) => service.name === 'registry')!.app.get(ServiceIdentity);
    let firstOwnTokenExpiry: number | undefined;
    /** Passes once tracking refuses `token` as expired: the event the copy waits for, not a guessed delay. */
    const refused = async (token: string) =>
      expect(createGrpcClient(ExperimentServiceDesc, address('tracking'), { token }).getExperiment({ experimentId: experiment.id })).rejects.toMatchObject({
        code: status.UNAUTHENTICATED,
        reason: 'TOKEN_EXPIRED',
      });
    beforeFirstVersionWrite = async () => {
      // The copy has read its first file as the registry; its token of then, and Alice's, must both lapse before it goes on.
      const ownToken = await registryIdentity.token();
      firstOwnTokenExpiry = expiryOf(ownToken);
      await eventually(
        async () => {
          await refused(aliceToken);
          await refused(ownToken);
        },
        { timeoutMs: (TOKEN_TTL_SECONDS + 30) * 1000, intervalMs: 500 },
      );
    };
    const created = (await registry.createVersion({ projectId: project.id, modelName: 'churn', source: `runs:/${runId}/model` })).version!;
    expect(created.status).toBe(ModelVersionStatus.PENDING);

    const admins = createGrpcClient(RegistryServiceDesc, address('registry'), { token: await tokenFor(ADMIN_KEY) });
    const settled = (await admins.waitVersion({ projectId: project.id, modelName: 'churn', version: created.version }, { timeoutMs: (TOKEN_TTL_SECONDS + 60) * 1000 })).version!;
    expect([settled.status, settled.statusMessage]).toEqual([ModelVersionStatus.READY, '']);
    // Alice's token is past its lifetime: the copy could not have finished with it.
    await expect(registry.getModel({ projectId: project.id, modelName: 'churn' })).rejects.toMatchObject({ code: status.UNAUTHENTICATED, reason: 'TOKEN_EXPIRED' });
    expect(firstOwnTokenExpiry).toBeDefined();
    expect(registryIdentity.expiresAt).toBeGreaterThan(firstOwnTokenExpiry!);
    const reader = createGrpcClient(RegistryServiceDesc, address('registry'), { token: await tokenFor(ADMIN_KEY) });
    const files = (await reader.listVersionFiles({ projectId: project.id, modelName: 'churn', version: created.version })).files.map((file) => `${file.path} ${file.sizeBytes}`);
    expect(files.sort()).toEqual(['params.json 11', 'weights.bin 7']);

    const audit = createGrpcClient(AuditServiceDesc, address('governance'), { token: await tokenFor(ADMIN_KEY) });
    const reads = await eventually(async () => {
      const { records } = await audit.listAuditRecords({ filter: { actor: registryAccount.id }, pageSize: 1000 });
      const found = records.map((record) => record.event!).filter((event) => event.service === 'tracking');
      expect(found.filter((event) => event.method.endsWith('/DownloadArtifact'))).toHaveLength(2);
      return found;
    });
    for (const event of reads) {
      expect(event).toMatchObject({ actor: registryAccount.id, onBehalfOf: alice.id, action: 'read', projectId: project.id, resource: `runs/${runId}` });
    }
    expect(reads.map((event) => event.method.split('/')[1]).sort()).toEqual(['DownloadArtifact', 'DownloadArtifact', 'ListArtifacts']);
    // What services did for Alice, whichever account acted.
    const forAlice = (await audit.listAuditRecords({ filter: { onBehalfOf: alice.id }, pageSize: 1000 })).records.map((record) => record.event!);
    expect(forAlice.map((event) => event.id).sort()).toEqual(reads.map((event) => event.id).sort());
    // The chain, with records that name someone acted for, still verifies.
    expect((await audit.verifyAuditChain({})).intact).toBe(true);
  }, (TOKEN_TTL_SECONDS + 90) * 1000);
});

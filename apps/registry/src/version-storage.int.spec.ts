import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import { governanceService } from '@trellis/governance';
import { createGrpcClient, runProcess, type RunningProcess } from '@trellis/platform';
import { definePlugin, type ObjectStore } from '@trellis/plugin-sdk';
import kmsLocal from '@trellis/plugin-kms-local';
import storageFs, { FsObjectStore, storageFsConfig } from '@trellis/plugin-storage-fs';
import {
  ArtifactServiceDesc,
  ExperimentServiceDesc,
  IdentityServiceDesc,
  ModelVersionStatus,
  PluginInstanceServiceDesc,
  PluginKind,
  PrincipalKind,
  RegistryServiceDesc,
  Role,
  RunServiceDesc,
  TokenServiceDesc,
} from '@trellis/proto';
import { registryService } from '@trellis/registry';
import { trackingService } from '@trellis/tracking';

const ADMIN_KEY = `trellis_00000000000000c7_${'S'.repeat(43)}`;

/** A plaintext no ciphertext holds: found on disk only where a file was stored in the clear. */
const MARKER = Buffer.from('TRELLIS-REGISTRY-COPY-MARKER/');

/** Every write of an object through storage-fs in this process: a `put` of its bytes, or a `copy` inside the store. */
const writes: Array<{ op: 'put' | 'copy'; key: string; from?: string }> = [];

/** storage-fs under its own id (so the kit's `default` instances use it) that records each put and copy. */
const recordingStorageFs = definePlugin({
  manifest: storageFs.manifest,
  configSchema: storageFsConfig,
  async create(ctx, config) {
    const store = await FsObjectStore.open(resolve(config.root), ctx.logger);
    const put: ObjectStore['put'] = (key, body, options) => {
      writes.push({ op: 'put', key });
      return store.put(key, body, options);
    };
    const copy: NonNullable<ObjectStore['copy']> = (from, to, options) => {
      writes.push({ op: 'copy', key: to, from });
      return store.copy(from, to, options);
    };
    return new Proxy(store, { get: (target, name) => (name === 'put' ? put : name === 'copy' ? copy : (Reflect.get(target, name, target) as unknown)) }) as unknown as ObjectStore;
  },
});

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/**
 * Where the registry keeps a version's files: the storage instance its project chose for the
 * registry when it was created, for life; and how they get there: copied inside storage when a
 * run's files (or another version's) are already in the same storage in the clear, streamed
 * otherwise. The standalone program, as it runs with its defaults: tracking's and the registry's
 * `default` instances are one storage-fs root.
 */
describe("the registry's storage instances and server-side copies (standalone)", () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-registry-storage-'));
  const dataDir = join(dir, 'data');
  const teamRoot = join(dir, 'team-b');
  const saved = { ...process.env };
  let running: RunningProcess;
  let token: string;
  const projects = new Map<string, string>();

  const address = (service: string) => running.services.find((candidate) => candidate.name === service)!.grpcAddress;
  const client = <T extends GenServiceMethods>(desc: GenService<T>, service: string) => createGrpcClient(desc, address(service), { token });
  const exchange = async () => (await createGrpcClient(TokenServiceDesc, address('governance')).exchangeApiKey({ apiKey: ADMIN_KEY })).token;

  beforeAll(async () => {
    Object.assign(process.env, {
      TRELLIS_DATA_DIR: dataDir,
      TRELLIS_OPS_PORT: '0',
      TRELLIS_LOG_LEVEL: 'silent',
      TRELLIS_GOVERNANCE_ADMIN_KEY: ADMIN_KEY,
    });
    const services = [governanceService, trackingService, registryService];
    for (const service of services) process.env[`TRELLIS_${service.name.toUpperCase()}_PORT`] = '0';
    running = await runProcess({ mode: 'standalone', services, plugins: [recordingStorageFs, kmsLocal], print: () => undefined });
    token = await exchange();
    for (const [name, encryptAtRest] of [['models', false], ['secret', true]] as const) {
      const { project } = await client(IdentityServiceDesc, 'governance').createProject({ name, encryptAtRest });
      projects.set(name, project!.id);
    }
    token = await exchange(); // a token that names the new projects
  });

  afterAll(async () => {
    await running?.stop();
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  /** A run of the project with `files` uploaded through tracking. */
  const runWith = async (project: string, files: Record<string, Buffer>) => {
    const { experiment } = await client(ExperimentServiceDesc, 'tracking').createExperiment({ projectId: projects.get(project)!, name: `${project}-${randomBytes(4).toString('hex')}` });
    const { run } = await client(RunServiceDesc, 'tracking').createRun({ experimentId: experiment!.id });
    for (const [path, content] of Object.entries(files)) {
      await client(ArtifactServiceDesc, 'tracking').uploadArtifact([
        { part: { case: 'header', value: { runId: run!.info!.id, path } } },
        ...Array.from({ length: Math.ceil(content.length / 65_536) }, (_, i) => ({ part: { case: 'chunk' as const, value: content.subarray(i * 65_536, (i + 1) * 65_536) } })),
      ]);
    }
    return { runId: run!.info!.id, keyPrefix: `${experiment!.id}/${run!.info!.id}/artifacts/` };
  };

  /** Creates a version and waits until it has settled; the writes made meanwhile come with it. */
  const newVersion = async (project: string, modelName: string, source: string) => {
    const registry = client(RegistryServiceDesc, 'registry');
    const projectId = projects.get(project)!;
    const first = writes.length;
    const { version } = await registry.createVersion({ projectId, modelName, source });
    const settled = (await registry.waitVersion({ projectId, modelName, version: version!.version }, { timeoutMs: 30_000 })).version!;
    expect([settled.status, settled.statusMessage]).toEqual([ModelVersionStatus.READY, '']);
    const prefix = /^registry:\/\/[^/]+\/(models\/.+)$/.exec(settled.storageUri)![1];
    return { version: settled, prefix, writes: writes.slice(first).filter((write) => write.key.startsWith(prefix)) };
  };

  const download = async (project: string, modelName: string, version: bigint, path: string) => {
    const chunks: Buffer[] = [];
    for await (const { chunk } of client(RegistryServiceDesc, 'registry').downloadVersionFile({ projectId: projects.get(project)!, modelName, version, path })) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks);
  };

  const weights = randomBytes(300_000);
  const params = Buffer.from('{"depth":3}');

  it("copies a run's files inside storage when tracking's run store is the registry's target, byte for byte", async () => {
    const run = await runWith('models', { 'model/weights.bin': weights, 'model/conf/params.json': params });
    // Only a platform service's account is told where a run's files are stored: not a user, nor an org's own service account.
    expect((await client(ArtifactServiceDesc, 'tracking').listArtifacts({ runId: run.runId })).storage).toBeUndefined();
    const identity = client(IdentityServiceDesc, 'governance');
    const bot = (await identity.createPrincipal({ kind: PrincipalKind.SERVICE_ACCOUNT, name: 'ci-bot', displayName: 'CI' })).principal!;
    await identity.setRoleBinding({ binding: { projectId: projects.get('models')!, principalId: bot.id, role: Role.VIEWER } });
    const botKey = (await client(TokenServiceDesc, 'governance').createApiKey({ principalId: bot.id, name: 'ci' })).secret;
    const botToken = (await createGrpcClient(TokenServiceDesc, address('governance')).exchangeApiKey({ apiKey: botKey })).token;
    const asBot = await createGrpcClient(ArtifactServiceDesc, address('tracking'), { token: botToken }).listArtifacts({ runId: run.runId });
    expect([asBot.files.length, asBot.storage]).toEqual([1, undefined]);
    await client(RegistryServiceDesc, 'registry').createModel({ projectId: projects.get('models')!, name: 'churn' });

    const v1 = await newVersion('models', 'churn', `runs:/${run.runId}/model`);
    expect(v1.version.storageUri).toBe(`registry://default/${v1.prefix}`);
    expect(v1.writes.sort((a, b) => a.key.localeCompare(b.key))).toEqual([
      { op: 'copy', key: `${v1.prefix}conf/params.json`, from: `${run.keyPrefix}model/conf/params.json` },
      { op: 'copy', key: `${v1.prefix}weights.bin`, from: `${run.keyPrefix}model/weights.bin` },
    ]);
    expect((await download('models', 'churn', 1n, 'weights.bin')).equals(weights)).toBe(true);
    expect((await download('models', 'churn', 1n, 'conf/params.json')).equals(params)).toBe(true);

    // A single file named by the source, copied the same way.
    const single = await newVersion('models', 'churn', `runs:/${run.runId}/model/conf/params.json`);
    expect(single.writes).toEqual([{ op: 'copy', key: `${single.prefix}params.json`, from: `${run.keyPrefix}model/conf/params.json` }]);
    expect((await download('models', 'churn', 2n, 'params.json')).equals(params)).toBe(true);
  });

  it("puts a new version's files in the instance its project chose for the registry, while older versions keep theirs", async () => {
    const projectId = projects.get('models')!;
    const instances = client(PluginInstanceServiceDesc, 'registry');
    const storage = { service: 'registry', kind: PluginKind.STORAGE };
    await instances.createPluginInstance({ ...storage, name: 'team-b', plugin: 'storage-fs', config: { root: teamRoot } });
    await instances.setProjectPluginInstance({ ...storage, projectId, name: 'team-b' });
    const run = await runWith('models', { 'model/weights.bin': weights });

    // tracking's storage is not team-b: the bytes stream through the registry.
    const v3 = await newVersion('models', 'churn', `runs:/${run.runId}/model`);
    expect(v3.version.storageUri).toBe(`registry://team-b/${v3.prefix}`);
    expect(v3.writes).toEqual([{ op: 'put', key: `${v3.prefix}weights.bin` }]);
    expect(readFileSync(join(teamRoot, 'objects', v3.prefix, 'weights.bin')).equals(weights)).toBe(true);
    expect((await download('models', 'churn', 3n, 'weights.bin')).equals(weights)).toBe(true);

    // Version 1 stays where it was made, and reads back from there.
    const v1Prefix = v3.prefix.replace(/\/3\/$/, '/1/');
    expect(existsSync(join(dataDir, 'artifacts', 'objects', v1Prefix, 'weights.bin'))).toBe(true);
    expect(filesUnder(join(teamRoot, 'objects', v1Prefix))).toEqual([]);
    expect((await download('models', 'churn', 1n, 'weights.bin')).equals(weights)).toBe(true);
    const listed = await client(RegistryServiceDesc, 'registry').listVersionFiles({ projectId, modelName: 'churn', version: 1n });
    expect(listed.files.map((file) => `${file.path} ${file.sizeBytes}`)).toEqual(['conf 0', `weights.bin ${weights.length}`]);

    // A copy of version 1 goes to the project's choice now: streamed across instances.
    const v4 = await newVersion('models', 'churn', 'models:/churn/1');
    expect(v4.version.storageUri).toBe(`registry://team-b/${v4.prefix}`);
    expect(v4.writes.map((write) => write.op)).toEqual(['put', 'put']);
    expect(readFileSync(join(teamRoot, 'objects', v4.prefix, 'conf', 'params.json')).equals(params)).toBe(true);
    // A copy of version 3, in the same instance and in the clear: copied inside it.
    const v5 = await newVersion('models', 'churn', 'models:/churn/3');
    expect(v5.writes).toEqual([{ op: 'copy', key: `${v5.prefix}weights.bin`, from: `${v3.prefix}weights.bin` }]);
    expect((await download('models', 'churn', 5n, 'weights.bin')).equals(weights)).toBe(true);

    // Deleting the model deletes its versions' files in every instance that holds some.
    const modelPrefix = v3.prefix.replace(/\d+\/$/, '');
    await client(RegistryServiceDesc, 'registry').deleteModel({ projectId, modelName: 'churn' });
    expect(filesUnder(join(teamRoot, 'objects', modelPrefix))).toEqual([]);
    expect(filesUnder(join(dataDir, 'artifacts', 'objects', modelPrefix))).toEqual([]);
    await instances.setProjectPluginInstance({ ...storage, projectId, name: 'default' });
  });

  it("streams an encrypted run's files, which stay encrypted in the version's copy", async () => {
    const secretWeights = Buffer.concat(Array.from({ length: 5000 }, () => MARKER));
    const run = await runWith('secret', { 'model/weights.bin': secretWeights });
    await client(RegistryServiceDesc, 'registry').createModel({ projectId: projects.get('secret')!, name: 'secret-model' });

    const v1 = await newVersion('secret', 'secret-model', `runs:/${run.runId}/model`);
    expect(v1.writes).toEqual([{ op: 'put', key: `${v1.prefix}weights.bin` }]);
    expect((await download('secret', 'secret-model', 1n, 'weights.bin')).equals(secretWeights)).toBe(true);
    // A copy of it in the same instance streams too: its stored bytes are bound to their key.
    const v2 = await newVersion('secret', 'secret-model', 'models:/secret-model/1');
    expect(v2.writes).toEqual([{ op: 'put', key: `${v2.prefix}weights.bin` }]);
    expect((await download('secret', 'secret-model', 2n, 'weights.bin')).equals(secretWeights)).toBe(true);

    const stored = filesUnder(join(dataDir, 'artifacts', 'objects'));
    expect(stored.filter((path) => path.includes(v1.prefix) || path.includes(v2.prefix))).toHaveLength(2);
    expect(stored.filter((path) => readFileSync(path).includes(MARKER))).toEqual([]);
  });
});

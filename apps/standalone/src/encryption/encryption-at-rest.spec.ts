import 'reflect-metadata';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import { createGrpcClient, runProcess, type RunningProcess } from '@trellis/platform';
import { ExperimentServiceDesc, IdentityServiceDesc, ModelVersionStatus, RegistryServiceDesc, RunServiceDesc, TokenServiceDesc } from '@trellis/proto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILT_IN_PLUGINS, EDGES, SERVICES } from '../services';

const ADMIN_KEY = `trellis_00000000000000ec_${'E'.repeat(43)}`;

/** A plaintext no ciphertext holds: found on disk only where a file was stored in the clear. */
const MARKER = Buffer.from('TRELLIS-PLAINTEXT-MARKER/');
/** Four 64 KiB chunks and a bit of the marker, so the body spans several sealed chunks. */
const WEIGHTS = Buffer.concat(Array.from({ length: Math.ceil((4 * 65536 + 1000) / MARKER.length) }, () => MARKER));

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** The files under `dir` whose bytes hold the marker. */
function filesWithMarker(dir: string): string[] {
  return filesUnder(dir).filter((path) => readFileSync(path).includes(MARKER));
}

describe('encryption at rest in a standalone process', () => {
  const saved = { ...process.env };
  let dir: string;
  let dataDir: string;
  let running: RunningProcess;
  let gateway: string;
  let token: string;
  /** The run whose file may hold the marker: set by the first spec. */
  let clearRunId = 'none';
  const projects = new Map<string, { id: string }>();
  const address = (service: string) => running.services.find((candidate) => candidate.name === service)!.grpcAddress;
  const client = <T extends GenServiceMethods>(desc: GenService<T>, service: string) => createGrpcClient(desc, address(service), { token });
  const exchange = async () => (await createGrpcClient(TokenServiceDesc, address('governance')).exchangeApiKey({ apiKey: ADMIN_KEY })).token;
  const http = (path: string, init: RequestInit = {}) => fetch(`${gateway}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trellis-encryption-'));
    dataDir = join(dir, 'data');
    Object.assign(process.env, {
      TRELLIS_DATA_DIR: dataDir,
      TRELLIS_OPS_PORT: '0',
      TRELLIS_SERVING_HTTP_PORT: '0',
      TRELLIS_GATEWAY_PORT: '0',
      TRELLIS_LOG_LEVEL: 'silent',
      TRELLIS_GOVERNANCE_ADMIN_KEY: ADMIN_KEY,
    });
    for (const service of SERVICES) process.env[`TRELLIS_${service.name.toUpperCase()}_PORT`] = '0';
    running = await runProcess({ mode: 'standalone', services: SERVICES, edges: EDGES, plugins: BUILT_IN_PLUGINS, print: () => undefined });
    gateway = running.edges.find((edge) => edge.name === 'gateway')!.address;
    token = await exchange();
    for (const [name, encryptAtRest] of [['in-the-clear', false], ['secret', true], ['was-secret', true]] as const) {
      const { project } = await client(IdentityServiceDesc, 'governance').createProject({ name, encryptAtRest });
      projects.set(name, project!);
    }
    token = await exchange(); // a token that names the new projects
  });

  afterAll(async () => {
    await running?.stop();
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  /** A run in the project named `name`, its weights uploaded through MLflow's artifact route. */
  const runWithWeights = async (name: string) => {
    const project = projects.get(name);
    const { experiment } = await client(ExperimentServiceDesc, 'tracking').createExperiment({ projectId: project!.id, name: `${name}-experiment` });
    const { run } = await client(RunServiceDesc, 'tracking').createRun({ experimentId: experiment!.id });
    const root = `${experiment!.id}/${run!.info!.id}/artifacts`;
    const upload = await http(`/api/2.0/mlflow-artifacts/artifacts/${root}/model/weights.bin`, { method: 'PUT', body: WEIGHTS });
    if (upload.status !== 200) throw new Error(`${upload.status} ${await upload.text()}`);
    return { projectId: project!.id, runId: run!.info!.id, root };
  };

  const download = async (path: string) => {
    const response = await http(`/api/2.0/mlflow-artifacts/artifacts/${path}`);
    expect(response.status).toBe(200);
    return Buffer.from(await response.arrayBuffer());
  };

  it("stores an encrypted project's artifacts and registry copies with no plaintext on disk, and gives them back byte for byte", async () => {
    const clear = await runWithWeights('in-the-clear');
    clearRunId = clear.runId;
    const secret = await runWithWeights('secret');

    // The scan finds the clear project's file, so finding nothing else means something.
    expect(filesWithMarker(dataDir).every((path) => path.includes(clear.runId))).toBe(true);
    expect(filesWithMarker(dataDir)).toHaveLength(1);

    expect((await download(`${secret.root}/model/weights.bin`)).equals(WEIGHTS)).toBe(true);
    const listing = await http(`/api/2.0/mlflow/artifacts/list?run_id=${secret.runId}&path=model`);
    expect(await listing.json()).toMatchObject({ files: [{ path: 'model/weights.bin', is_dir: false, file_size: WEIGHTS.length }] });

    const registry = client(RegistryServiceDesc, 'registry');
    await registry.createModel({ projectId: secret.projectId, name: 'secret-model' });
    await registry.createVersion({ projectId: secret.projectId, modelName: 'secret-model', source: `runs:/${secret.runId}/model` });
    const { version } = await registry.waitVersion({ projectId: secret.projectId, modelName: 'secret-model', version: 1n }, { timeoutMs: 30_000 });
    expect(version?.status).toBe(ModelVersionStatus.READY);
    const files = await registry.listVersionFiles({ projectId: secret.projectId, modelName: 'secret-model', version: 1n });
    expect(files.files.map((file) => ({ path: file.path, size: file.sizeBytes }))).toEqual([{ path: 'weights.bin', size: BigInt(WEIGHTS.length) }]);
    const chunks: Buffer[] = [];
    for await (const { chunk } of registry.downloadVersionFile({ projectId: secret.projectId, modelName: 'secret-model', version: 1n, path: 'weights.bin' })) chunks.push(Buffer.from(chunk));
    expect(Buffer.concat(chunks).equals(WEIGHTS)).toBe(true);
    expect((await download(`models/secret/secret-model/1/weights.bin`)).equals(WEIGHTS)).toBe(true);

    expect(filesWithMarker(dataDir)).toHaveLength(1);
    expect(filesWithMarker(dataDir)[0]).toContain(clear.runId);
  });

  it('keeps a run encrypted after its project stops asking, and its registry copies too: the flag applies to new runs and versions only', async () => {
    const secret = await runWithWeights('was-secret');
    await client(IdentityServiceDesc, 'governance').updateProject({ project: { id: secret.projectId, encryptAtRest: false }, updateMask: { paths: ['encrypt_at_rest'] } });
    const upload = await http(`/api/2.0/mlflow-artifacts/artifacts/${secret.root}/later.bin`, { method: 'PUT', body: WEIGHTS });
    expect(upload.status).toBe(200);
    const { run } = await client(RunServiceDesc, 'tracking').getRun({ runId: secret.runId });
    expect(run?.info?.artifactsEncrypted).toBe(true);

    const registry = client(RegistryServiceDesc, 'registry');
    await registry.createModel({ projectId: secret.projectId, name: 'was-secret-model' });
    await registry.createVersion({ projectId: secret.projectId, modelName: 'was-secret-model', source: `runs:/${secret.runId}/model` });
    const { version } = await registry.waitVersion({ projectId: secret.projectId, modelName: 'was-secret-model', version: 1n }, { timeoutMs: 30_000 });
    expect(version).toMatchObject({ status: ModelVersionStatus.READY, statusMessage: '' });

    expect(filesWithMarker(dataDir).filter((path) => !path.includes(clearRunId))).toEqual([]);
    expect((await download(`${secret.root}/later.bin`)).equals(WEIGHTS)).toBe(true);
    expect((await download(`models/was-secret/was-secret-model/1/weights.bin`)).equals(WEIGHTS)).toBe(true);
  });
});

import 'reflect-metadata';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import { createGrpcClient, type RunningProcess } from '@trellis/platform';
import { startS3TestServer, type S3TestServer } from '@trellis/plugin-storage-s3/testing';
import { BlobServiceDesc, ExperimentServiceDesc, IdentityServiceDesc, ModelVersionStatus, RegistryServiceDesc, RunServiceDesc, TokenServiceDesc } from '@trellis/proto';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { s3DefaultStorageEnv, startStandalone } from './spec-process';

const ADMIN_KEY = `trellis_00000000000000e3_${'S'.repeat(43)}`;
const BUCKET = 'trellis-standalone';

/** Bytes found on disk only where a file was stored: several chunks of a marker. */
const MARKER = Buffer.from('TRELLIS-ON-S3-MARKER/');
const WEIGHTS = Buffer.concat(Array.from({ length: Math.ceil((3 * 65536 + 500) / MARKER.length) }, () => MARKER));

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

const filesWithMarker = (dir: string) => filesUnder(dir).filter((path) => readFileSync(path).includes(MARKER));
const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function collect(chunks: AsyncIterable<{ chunk: Uint8Array }>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const { chunk } of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

describe('a standalone process whose default storage is storage-s3', () => {
  const saved = { ...process.env };
  let dir: string;
  let dataDir: string;
  let s3: S3TestServer;
  let running: RunningProcess;
  let gateway: string;
  let token: string;
  const address = (service: string) => running.services.find((candidate) => candidate.name === service)!.grpcAddress;
  const client = <T extends GenServiceMethods>(desc: GenService<T>, service: string) => createGrpcClient(desc, address(service), { token });
  const exchange = async () => (await createGrpcClient(TokenServiceDesc, address('governance')).exchangeApiKey({ apiKey: ADMIN_KEY })).token;
  const http = (path: string, init: RequestInit = {}) => fetch(`${gateway}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } });

  beforeAll(async () => {
    s3 = await startS3TestServer({ buckets: [BUCKET] });
    dir = mkdtempSync(join(tmpdir(), 'trellis-standalone-s3-'));
    dataDir = join(dir, 'data');
    running = await startStandalone(dataDir, ADMIN_KEY, s3DefaultStorageEnv(dir, s3.endpoint, BUCKET));
    gateway = running.edges.find((edge) => edge.name === 'gateway')!.address;
    token = await exchange();
  });

  afterAll(async () => {
    await running?.stop();
    await s3?.close();
    process.env = saved;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is ready, the S3 instance answering its health check', async () => {
    expect((await fetch(`${running.opsAddress}/readyz`)).status).toBe(200);
  });

  it("keeps a run's artifacts and the registry's copy of them in the bucket, and gives them back byte for byte", async () => {
    const { project } = await client(IdentityServiceDesc, 'governance').createProject({ name: 'on-s3' });
    token = await exchange(); // a token that names the new project
    const { experiment } = await client(ExperimentServiceDesc, 'tracking').createExperiment({ projectId: project!.id, name: 'on-s3-experiment' });
    const { run } = await client(RunServiceDesc, 'tracking').createRun({ experimentId: experiment!.id });
    const runId = run!.info!.id;
    const root = `${experiment!.id}/${runId}/artifacts`;

    const upload = await http(`/api/2.0/mlflow-artifacts/artifacts/${root}/model/weights.bin`, { method: 'PUT', body: WEIGHTS });
    expect(upload.status).toBe(200);
    const downloaded = await http(`/api/2.0/mlflow-artifacts/artifacts/${root}/model/weights.bin`);
    expect(downloaded.status).toBe(200);
    expect(Buffer.from(await downloaded.arrayBuffer()).equals(WEIGHTS)).toBe(true);

    const registry = client(RegistryServiceDesc, 'registry');
    await registry.createModel({ projectId: project!.id, name: 's3-model' });
    await registry.createVersion({ projectId: project!.id, modelName: 's3-model', source: `runs:/${runId}/model` });
    const { version } = await registry.waitVersion({ projectId: project!.id, modelName: 's3-model', version: 1n }, { timeoutMs: 30_000 });
    expect(version).toMatchObject({ status: ModelVersionStatus.READY, statusMessage: '' });
    const chunks: Buffer[] = [];
    for await (const { chunk } of registry.downloadVersionFile({ projectId: project!.id, modelName: 's3-model', version: 1n, path: 'weights.bin' })) chunks.push(Buffer.from(chunk));
    expect(Buffer.concat(chunks).equals(WEIGHTS)).toBe(true);

    // Both copies are objects of the bucket, under the instance's prefix; none is under the data directory.
    const stored = (await s3.storedKeys(BUCKET)).filter((key) => readFileSync(join(s3.directory, BUCKET, `${key}._S3rver_object`)).includes(MARKER));
    expect(stored).toHaveLength(2);
    expect(stored.every((key) => key.startsWith('trellis/'))).toBe(true);
    expect(stored.filter((key) => key.includes(runId))).toHaveLength(1);
    expect(filesWithMarker(dataDir)).toEqual([]);
  });

  it("stores the data service's blobs in the bucket, streamed through gRPC or PUT to a presigned URL, and gives them back byte for byte", async () => {
    const { project } = await client(IdentityServiceDesc, 'governance').createProject({ name: 'blobs-on-s3' });
    token = await exchange();
    const blobs = client(BlobServiceDesc, 'data');
    const streamed = Buffer.concat([MARKER, Buffer.from('streamed blob '), WEIGHTS]);
    const sha256 = sha256Of(streamed);
    const uploaded = await blobs.uploadBlob(
      (async function* () {
        yield { part: { case: 'header' as const, value: { projectId: project!.id, sha256, size: BigInt(streamed.length) } } };
        for (let at = 0; at < streamed.length; at += 64 * 1024) yield { part: { case: 'chunk' as const, value: streamed.subarray(at, at + 64 * 1024) } };
      })(),
    );
    expect(uploaded.blob).toMatchObject({ sha256, size: BigInt(streamed.length) });
    expect((await collect(blobs.downloadBlob({ projectId: project!.id, sha256 }))).equals(streamed)).toBe(true);

    const presigned = Buffer.concat([MARKER, Buffer.from('presigned blob')]);
    const started = await blobs.startBlobUpload({ projectId: project!.id, sha256: sha256Of(presigned), size: BigInt(presigned.length), presign: true });
    expect(started.presignedUrl).toMatch(new RegExp(`^${s3.endpoint}/${BUCKET}/trellis/`));
    expect((await fetch(started.presignedUrl, { method: 'PUT', body: presigned })).status).toBe(200);
    const completed = await blobs.completeBlobUpload({ uploadId: started.uploadId });
    expect(completed.blob).toMatchObject({ sha256: sha256Of(presigned), size: BigInt(presigned.length) });
    expect((await collect(blobs.downloadBlob({ projectId: project!.id, sha256: sha256Of(presigned) }))).equals(presigned)).toBe(true);

    const stored = await s3.storedKeys(BUCKET);
    expect(stored.filter((key) => key.includes(sha256))).toHaveLength(1);
    expect(stored.filter((key) => key.includes(sha256Of(presigned)))).toHaveLength(1);
    expect(filesWithMarker(dataDir)).toEqual([]);
  });
});

import 'reflect-metadata';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import { createGrpcClient, type RunningProcess } from '@trellis/platform';
import { S3_TEST_CREDENTIALS, startS3TestServer, type S3TestServer } from '@trellis/plugin-storage-s3/testing';
import { BlobServiceDesc, DataServiceDesc, IdentityServiceDesc, LineageServiceDesc, ProfileServiceDesc, TokenServiceDesc } from '@trellis/proto';
import { LineageDirection } from '@trellis/proto/trellis/data/v1/lineage_service_pb';
import { ProfileStatus } from '@trellis/proto/trellis/data/v1/profile_service_pb';
import { eventually } from '@trellis/testing';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { s3DefaultStorageEnv, startStandalone } from './spec-process';

const ADMIN_KEY = `trellis_00000000000000d2_${'M'.repeat(43)}`;
const BUCKET = 'trellis-dataset-to-model';
const SEGMENTS = ['retail', 'retail', 'enterprise'];

/** A directory a user would push: a CSV of 300 deterministic rows, a JSON Lines file, and a nested binary file larger than what is hashed in memory. */
function writeDirectory(dir: string, events = ['{"user": "u1", "clicks": 3}', '{"user": "u2", "clicks": 5}']): void {
  const rows = Array.from({ length: 300 }, (_, index) => `${index + 1},${((index * 37) % 1000) / 10},${SEGMENTS[index % 3]}`);
  const files: Record<string, string | Buffer> = {
    'train.csv': ['id,amount,segment', ...rows, ''].join('\n'),
    'events.jsonl': events.join('\n') + '\n',
    'images/raw/sample.bin': Buffer.alloc(5 * 1024 * 1024 + 123, 'trellis-sample/'),
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

/** Every file under `dir` by its path relative to `dir`, with its sha256 and size. */
function manifestOf(dir: string, under = dir): Array<{ path: string; sha256: string; size: number }> {
  return readdirSync(under)
    .flatMap((name) => {
      const path = join(under, name);
      if (statSync(path).isDirectory()) return manifestOf(dir, path);
      const bytes = readFileSync(path);
      return [{ path: relative(dir, path), sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length }];
    })
    .sort((a, b) => (a.path < b.path ? -1 : 1));
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? filesUnder(join(dir, name)) : [join(dir, name)]));
}

describe.each(['storage-fs', 'storage-s3'])('from a directory to a model, with blobs on %s', (storage) => {
  const saved = { ...process.env };
  let dir: string;
  let s3: S3TestServer | undefined;
  let running: RunningProcess;
  let gateway: string;
  let token: string;
  const address = (service: string) => running.services.find((candidate) => candidate.name === service)!.grpcAddress;
  const client = <T extends GenServiceMethods>(desc: GenService<T>, service: string) => createGrpcClient(desc, address(service), { token });
  const exchange = async () => (await createGrpcClient(TokenServiceDesc, address('governance')).exchangeApiKey({ apiKey: ADMIN_KEY })).token;
  const http = (path: string, init: RequestInit = {}) => fetch(`${gateway}${path}`, { ...init, headers: { authorization: `Bearer ${ADMIN_KEY}`, ...init.headers } });
  const json = async (response: Response) => {
    const body = await response.text();
    if (response.status !== 200) throw new Error(`${response.status}: ${body}`);
    return JSON.parse(body);
  };
  const post = async (path: string, body: unknown) => json(await http(path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }));

  /** A new project of the admin's, and the dataset `churn` in it. */
  async function datasetInNewProject(name: string): Promise<{ projectId: string; datasetId: string }> {
    const { project } = await client(IdentityServiceDesc, 'governance').createProject({ name });
    token = await exchange(); // a token that names the new project
    const { dataset } = await client(DataServiceDesc, 'data').createDataset({ projectId: project!.id, name: 'churn' });
    return { projectId: project!.id, datasetId: dataset!.id };
  }

  /** Where each digest is stored: the bucket's keys, listed through the S3 API, or the data directory's files. */
  async function storedKeys(): Promise<string[]> {
    if (!s3) return filesUnder(join(dir, 'data')).map((path) => relative(join(dir, 'data'), path));
    const listing = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3_TEST_CREDENTIALS });
    try {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await listing.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token }));
        keys.push(...(page.Contents ?? []).map((object) => object.Key!));
        token = page.NextContinuationToken;
      } while (token);
      return keys;
    } finally {
      listing.destroy();
    }
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `trellis-dataset-to-model-${storage}-`));
    if (storage === 'storage-s3') s3 = await startS3TestServer({ buckets: [BUCKET] });
    running = await startStandalone(join(dir, 'data'), ADMIN_KEY, s3 ? s3DefaultStorageEnv(dir, s3.endpoint, BUCKET) : {});
    gateway = running.edges.find((edge) => edge.name === 'gateway')!.address;
    token = await exchange();
  });

  afterAll(async () => {
    await running?.stop();
    await s3?.close();
    process.env = saved;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('pushes a directory through the gateway as a tar stream, profiles it, and answers from a model version registered from a run that read it which dataset version and files it came from', async () => {
    const { projectId, datasetId } = await datasetInNewProject('push-by-tar');
    const source = join(dir, 'push-by-tar');
    writeDirectory(source);
    const manifest = manifestOf(source);

    // As `tar -C dir -c . | curl -T - -H 'Content-Type: application/x-tar' ...` sends it: a stream of unknown length.
    const tar = spawn('tar', ['-C', source, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pushed = await json(
      await http(`/v1/data/datasets/${datasetId}/versions?message=${encodeURIComponent('first cut')}&tag=golden`, {
        method: 'POST',
        body: Readable.toWeb(tar.stdout) as ReadableStream,
        headers: { 'content-type': 'application/x-tar' },
        duplex: 'half',
      } as RequestInit),
    );
    const pushTo = `/v1/data/datasets/${datasetId}/versions`;
    const notTar = await http(pushTo, { method: 'POST', body: 'a,b\n', headers: { 'content-type': 'text/csv' } });
    expect(notTar.status).toBe(415);
    expect(pushed).toMatchObject({ version: { datasetId, version: '1', fileCount: '3', tags: ['golden'], reference: 'datasets:/churn/1' }, blobsWritten: '3' });
    expect(Number(pushed.bytesWritten)).toBe(manifest.reduce((sum, file) => sum + file.size, 0));

    const archive = execFileSync('tar', ['-C', source, '-c', '.'], { maxBuffer: 64 * 1024 * 1024 });
    const cutShort = await http(`${pushTo}?message=cut`, { method: 'POST', body: archive.subarray(0, 4096), headers: { 'content-type': 'application/x-tar' } });
    expect(cutShort.status).toBe(400);
    expect(await cutShort.json()).toMatchObject({ reason: 'TAR_INVALID' });
    expect((await client(DataServiceDesc, 'data').getDataset({ datasetId })).dataset?.latestVersion).toBe(1n);

    const keys = await storedKeys();
    for (const { sha256 } of manifest) expect(keys.filter((key) => key.endsWith(`blobs/sha256/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`))).toHaveLength(1);
    expect(keys.filter((key) => key.includes('blobs/intake/'))).toEqual([]);
    if (s3) expect(keys.filter((key) => key.includes('blobs/')).every((key) => key.startsWith('trellis/'))).toBe(true);

    const profiles = client(ProfileServiceDesc, 'data');
    const profile = await eventually(
      async () => {
        const answer = await profiles.getVersionProfile({ datasetId, version: 1n });
        expect(answer.status).toBe(ProfileStatus.READY);
        return answer;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    expect(profile.files.map((file) => [file.path, file.status])).toEqual([
      ['events.jsonl', ProfileStatus.READY],
      ['images/raw/sample.bin', ProfileStatus.SKIPPED],
      ['train.csv', ProfileStatus.READY],
    ]);
    const csv = profile.files.find((file) => file.path === 'train.csv')!;
    const column = (name: string) => csv.columns.find((candidate) => candidate.name === name)!;
    expect(csv.rows).toBe(300n);
    expect(column('id')).toMatchObject({ count: 300n, missing: 0n, min: 1, max: 300 });
    expect(column('amount')).toMatchObject({ count: 300n, min: 0, max: 99.9 });
    expect(column('segment').categories?.counts[0]).toMatchObject({ value: 'retail', count: 200n });
    expect(column('segment').categories?.counts[1]).toMatchObject({ value: 'enterprise', count: 100n });

    // Training, as the stock MLflow client does it through the gateway: a run that logs the version as its input, then a model registered from it.
    const mlflow = `/projects/push-by-tar/api/2.0/mlflow`;
    const experimentId = (await post(`${mlflow}/experiments/create`, { name: 'train-churn' })).experiment_id;
    const run = (await post(`${mlflow}/runs/create`, { experiment_id: experimentId, run_name: 'fit' })).run.info;
    await post(`${mlflow}/runs/log-inputs`, {
      run_id: run.run_id,
      datasets: [{ dataset: { name: 'churn', digest: manifest[0].sha256.slice(0, 8), source_type: 'trellis', source: 'datasets:/churn/1' }, tags: [{ key: 'mlflow.data.context', value: 'training' }] }],
    });
    const artifacts = `/projects/push-by-tar/api/2.0/mlflow-artifacts/artifacts/${String(run.artifact_uri).replace('mlflow-artifacts:/', '')}`;
    expect((await http(`${artifacts}/model/weights.txt`, { method: 'PUT', body: 'w=0.5' })).status).toBe(200);
    await post(`${mlflow}/runs/update`, { run_id: run.run_id, status: 'FINISHED', end_time: Date.now() });
    await post(`${mlflow}/registered-models/create`, { name: 'churn-model' });
    await post(`${mlflow}/model-versions/create`, { name: 'churn-model', source: `${run.artifact_uri}/model`, run_id: run.run_id });
    await eventually(async () => expect((await json(await http(`${mlflow}/model-versions/get?name=churn-model&version=1`))).model_version.status).toBe('READY'), { timeoutMs: 30_000 });

    const model = `projects/${projectId}/models/churn-model/versions/1`;
    const upstream = [model, `runs/${run.run_id}`, `datasets/${datasetId}/versions/1`];
    const lineage = client(LineageServiceDesc, 'data');
    const answer = await eventually(async () => {
      const found = await lineage.getLineage({ node: model, direction: LineageDirection.UPSTREAM, depth: 2 });
      expect(found.nodes.map((node) => node.name)).toEqual(upstream);
      return found;
    });
    expect(answer.edges.map((edge) => [edge.source, edge.target])).toEqual(expect.arrayContaining([upstream.slice(1, 3).reverse(), upstream.slice(0, 2).reverse()]));
    const throughGateway = await post('/v1/trellis.data.v1.LineageService/GetLineage', { node: model, direction: 'LINEAGE_DIRECTION_UPSTREAM', depth: 2 });
    expect(throughGateway.nodes.map((node: { name: string }) => node.name)).toEqual(upstream);

    // The dataset version the model came from, read off its lineage node, and the files it holds.
    const [, fromDataset, fromVersion] = /^datasets\/([^/]+)\/versions\/(\d+)$/.exec(answer.nodes[2].name)!;
    const { files } = await client(DataServiceDesc, 'data').listDatasetVersionFiles({ datasetId: fromDataset, version: BigInt(fromVersion) });
    expect(files.map((file) => ({ path: file.path, sha256: file.sha256, size: Number(file.sizeBytes) }))).toEqual(manifest);
  }, 120_000);

  it('pushes a directory through gRPC, uploading only the blobs the project lacks, and a changed directory uploads only the changed file', async () => {
    const { projectId, datasetId } = await datasetInNewProject('push-by-grpc');
    const source = join(dir, 'push-by-grpc');
    writeDirectory(source);
    const blobs = client(BlobServiceDesc, 'data');
    const data = client(DataServiceDesc, 'data');

    /** What a client does: send hashes, upload the missing blobs, commit the manifest; answers the digests FindMissingBlobs named. */
    async function push(parentVersion: bigint): Promise<string[]> {
      const manifest = manifestOf(source);
      const { missing } = await blobs.findMissingBlobs({ projectId, sha256s: manifest.map((file) => file.sha256) });
      for (const file of manifest.filter((candidate) => missing.includes(candidate.sha256))) {
        const bytes = readFileSync(join(source, file.path));
        await blobs.uploadBlob(
          (async function* () {
            yield { part: { case: 'header' as const, value: { projectId, sha256: file.sha256, size: BigInt(file.size) } } };
            for (let at = 0; at < bytes.length; at += 1024 * 1024) yield { part: { case: 'chunk' as const, value: bytes.subarray(at, at + 1024 * 1024) } };
          })(),
        );
      }
      await data.commitDatasetVersion(
        (async function* () {
          yield { part: { case: 'header' as const, value: { datasetId, parentVersion, fullManifest: true, message: 'pushed' } } };
          yield { part: { case: 'changes' as const, value: { put: manifest.map((file) => ({ path: file.path, sha256: file.sha256, sizeBytes: BigInt(file.size) })) } } };
        })(),
      );
      return missing;
    }

    expect((await push(0n)).sort()).toEqual(manifestOf(source).map((file) => file.sha256).sort());
    writeDirectory(source, ['{"user": "u1", "clicks": 4}']);
    const changed = manifestOf(source).find((file) => file.path === 'events.jsonl')!;
    expect(await push(1n)).toEqual([changed.sha256]);

    const { files } = await data.listDatasetVersionFiles({ datasetId, version: 2n });
    expect(files.map((file) => ({ path: file.path, sha256: file.sha256, size: Number(file.sizeBytes) }))).toEqual(manifestOf(source));
    const { changes } = await data.diffDatasetVersions({ datasetId, fromVersion: 1n, toVersion: 2n });
    expect(changes.map((change) => change.path)).toEqual(['events.jsonl']);
    const keys = await storedKeys();
    expect(keys.filter((key) => key.endsWith(changed.sha256))).toHaveLength(1);
  }, 120_000);
});

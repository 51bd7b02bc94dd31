import 'reflect-metadata';
import { dataService } from '@trellis/data';
import { governanceService } from '@trellis/governance';
import { BlobServiceDesc, DataServiceDesc, IdentityServiceDesc } from '@trellis/proto';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { type Json, type MlflowStack, startMlflowStack } from './mlflow-python-client';

const MiB = 1024 * 1024;
const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('blobs through the gateway (standalone, SQLite, storage-fs)', () => {
  let stack: MlflowStack;
  let editor: string;
  let viewer: string;
  let outsider: string;
  let project: string;

  const put = (path: string, body: Uint8Array, key = editor) => fetch(`${stack.base}${path}`, { method: 'PUT', body, headers: { authorization: `Bearer ${key}` } });
  const get = (path: string, key = viewer) => fetch(`${stack.base}${path}`, { headers: { authorization: `Bearer ${key}` } });
  const blobs = (method: string, body: Json, key = editor) => stack.rpc(BlobServiceDesc, method, body, key);
  const refusal = (method: string, body: Json, key = editor) => blobs(method, body, key).then(() => undefined, (error: Error) => error.message);

  /** Sends the first `sent` bytes of a body that declares `declared`, then drops the connection, as a client that loses its network does. */
  const droppedPut = (path: string, declared: number, sent: Uint8Array) =>
    new Promise<void>((resolve) => {
      const url = new URL(`${stack.base}${path}`);
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'PUT', headers: { authorization: `Bearer ${editor}`, 'content-length': declared } });
      req.on('error', () => resolve());
      req.on('response', (response) => response.resume().on('end', resolve));
      req.write(sent, () => setImmediate(() => req.destroy()));
    });

  /** A new dataset whose version 1 holds `files`, uploaded through the gateway and committed as NDJSON. */
  const committedDataset = async (name: string, files: Map<string, Buffer>): Promise<Json> => {
    for (const [, bytes] of files) await put(`/v1/data/projects/${project}/blobs/${sha256Of(bytes)}`, bytes);
    const { dataset } = await stack.rpc(DataServiceDesc, 'CreateDataset', { projectId: project, name });
    const lines = [
      { header: { datasetId: dataset.id, message: 'first' } },
      { changes: { put: [...files].map(([path, bytes]) => ({ path, sizeBytes: String(bytes.length), sha256: sha256Of(bytes) })) } },
    ];
    const committed = await fetch(`${stack.base}/v1/${DataServiceDesc.typeName}/CommitDatasetVersion`, {
      method: 'POST',
      body: lines.map((line) => JSON.stringify(line)).join('\n'),
      headers: { authorization: `Bearer ${editor}`, 'content-type': 'application/x-ndjson' },
    });
    expect(committed.status).toBe(200);
    return dataset;
  };

  beforeAll(async () => {
    stack = await startMlflowStack([governanceService, dataService]);
    await stack.rpc(IdentityServiceDesc, 'CreateProject', { name: 'elsewhere' });
    project = await stack.projectId('default');
    editor = await stack.keyFor('blob-editor', 'ROLE_EDITOR');
    viewer = await stack.keyFor('blob-viewer', 'ROLE_VIEWER');
    outsider = await stack.keyFor('blob-outsider', 'ROLE_EDITOR', 'elsewhere');
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('stores a PUT blob once, refuses bytes that do not match their digest, and serves it back', async () => {
    const bytes = randomBytes(3 * MiB + 1);
    const sha256 = sha256Of(bytes);
    const first = await put(`/v1/data/projects/${project}/blobs/${sha256}`, bytes);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ sha256, size: String(bytes.length), alreadyStored: false });
    expect(await (await put(`/v1/data/projects/${project}/blobs/${sha256}`, bytes)).json()).toMatchObject({ alreadyStored: true });
    expect((await blobs('FindMissingBlobs', { projectId: project, sha256s: [sha256] })).missing).toEqual([]);

    const claimed = sha256Of(Buffer.from('claimed'));
    const mismatch = await put(`/v1/data/projects/${project}/blobs/${claimed}`, bytes);
    expect(mismatch.status).toBe(400);
    expect(await mismatch.json()).toMatchObject({ reason: 'DIGEST_MISMATCH' });
    expect((await blobs('FindMissingBlobs', { projectId: project, sha256s: [claimed] })).missing).toEqual([claimed]);

    const downloaded = await get(`/v1/data/projects/${project}/blobs/${sha256}`);
    expect(downloaded.status).toBe(200);
    expect(Buffer.from(await downloaded.arrayBuffer()).equals(bytes)).toBe(true);
    const part = await get(`/v1/data/projects/${project}/blobs/${sha256}?offset=10&length=5`);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(10, 15))).toBe(true);
    expect((await get(`/v1/data/projects/${project}/blobs/${sha256}`, outsider)).status).toBe(403);
  });

  it('resumes an upload in parts whose connection dropped: the parts listed are stored, the others are sent again', async () => {
    const bytes = randomBytes(11 * MiB + 3);
    const sha256 = sha256Of(bytes);
    const parts = [bytes.subarray(0, 5 * MiB), bytes.subarray(5 * MiB, 10 * MiB), bytes.subarray(10 * MiB)];
    const { uploadId } = await blobs('StartBlobUpload', { projectId: project, sha256, size: String(bytes.length) });
    expect((await put(`/v1/data/uploads/${uploadId}/parts/1`, parts[0])).status).toBe(200);
    await droppedPut(`/v1/data/uploads/${uploadId}/parts/2`, parts[1].length, parts[1].subarray(0, MiB));

    const listed = (await blobs('ListBlobUploadParts', { uploadId })).parts as Json[];
    expect(listed.map((one) => one.partNumber)).toEqual([1]);
    for (const number of [2, 3]) expect((await put(`/v1/data/uploads/${uploadId}/parts/${number}`, parts[number - 1])).status).toBe(200);
    expect((await blobs('CompleteBlobUpload', { uploadId })).blob).toMatchObject({ sha256, size: String(bytes.length) });

    const downloaded = Buffer.from(await (await get(`/v1/data/projects/${project}/blobs/${sha256}`)).arrayBuffer());
    expect(sha256Of(downloaded)).toBe(sha256);
  });

  it("refuses an upload's parts to a caller of another project, and uploads to a viewer", async () => {
    const bytes = randomBytes(1000);
    const sha256 = sha256Of(bytes);
    const { uploadId } = await blobs('StartBlobUpload', { projectId: project, sha256, size: String(bytes.length) });
    expect((await put(`/v1/data/uploads/${uploadId}/parts/1`, bytes, outsider)).status).toBe(404);
    expect(await refusal('CompleteBlobUpload', { uploadId }, outsider)).toContain('404');
    expect((await put(`/v1/data/projects/${project}/blobs/${sha256}`, bytes, viewer)).status).toBe(403);
    await blobs('AbortBlobUpload', { uploadId });
  });

  it("downloads a version's file and the whole version as a tar stream", async () => {
    const files = new Map([
      ['train.csv', Buffer.from('a,b\n1,2\n')],
      ['img/x.bin', randomBytes(64 * 1024 + 1)],
    ]);
    const dataset = await committedDataset('http-downloads', files);

    const file = await get(`/v1/data/datasets/${dataset.id}/versions/1/files/img/x.bin`);
    expect(Buffer.from(await file.arrayBuffer()).equals(files.get('img/x.bin')!)).toBe(true);
    const tar = await get(`/v1/data/datasets/${dataset.id}/versions/1/tar`);
    expect(tar.headers.get('content-type')).toBe('application/x-tar');
    const archive = Buffer.from(await tar.arrayBuffer());
    // Each file: a 512-byte header naming it, its bytes padded to 512; then two zero blocks.
    let at = 0;
    for (const [path, bytes] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
      expect(archive.subarray(at, at + 100).toString().replace(/\0+$/, '')).toBe(path);
      expect(archive.subarray(at + 512, at + 512 + bytes.length).equals(bytes)).toBe(true);
      at += 512 + Math.ceil(bytes.length / 512) * 512;
    }
    expect(archive.length).toBe(at + 1024);
    expect((await get(`/v1/data/datasets/${dataset.id}/versions/1/tar`, outsider)).status).toBe(404);
  });

  it("answers a single byte range of a version's file with 206, and one past its end with 416", async () => {
    const bytes = randomBytes(100_000);
    const dataset = await committedDataset('http-ranges', new Map([['data/part.bin', bytes]]));
    const file = `/v1/data/datasets/${dataset.id}/versions/1/files/data/part.bin`;
    const ranged = (range: string) => fetch(`${stack.base}${file}`, { headers: { authorization: `Bearer ${viewer}`, range } });

    const whole = await get(file);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    await whole.arrayBuffer();
    for (const [range, start, end] of [
      ['bytes=10-19', 10, 19],
      ['bytes=99990-', 99_990, 99_999],
      ['bytes=-5', 99_995, 99_999],
      ['bytes=99998-200000', 99_998, 99_999],
    ] as const) {
      const answer = await ranged(range);
      expect({ range, status: answer.status, contentRange: answer.headers.get('content-range'), length: answer.headers.get('content-length') }).toEqual({
        range,
        status: 206,
        contentRange: `bytes ${start}-${end}/100000`,
        length: String(end - start + 1),
      });
      expect(Buffer.from(await answer.arrayBuffer()).equals(bytes.subarray(start, end + 1))).toBe(true);
    }
    const past = await ranged('bytes=100000-');
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe('bytes */100000');
    await past.arrayBuffer();
    const several = await ranged('bytes=0-1,5-6');
    expect(several.status).toBe(200);
    expect((await several.arrayBuffer()).byteLength).toBe(100_000);
    const missing = await fetch(`${stack.base}${file}.missing`, { headers: { authorization: `Bearer ${viewer}`, range: 'bytes=0-1' } });
    expect(missing.status).toBe(404);
    await missing.arrayBuffer();
  });
});

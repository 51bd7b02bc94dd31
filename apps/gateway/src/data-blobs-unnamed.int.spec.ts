import 'reflect-metadata';
import { dataService } from '@trellis/data';
import { governanceService } from '@trellis/governance';
import { BlobServiceDesc } from '@trellis/proto';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { type Json, type MlflowStack, startMlflowStack } from './mlflow-python-client';

const MiB = 1024 * 1024;
const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** `size` bytes unlike any other label's: each 64-byte line names the label and its position. */
function labelled(label: string, size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let at = 0; at < size; at += 64) bytes.write(`${label} ${at}`.padEnd(64, '.'), at, 'latin1');
  return bytes;
}

describe('PUT of a blob without its digest through the gateway (standalone, SQLite, storage-fs)', () => {
  let stack: MlflowStack;
  let editor: string;
  let viewer: string;
  let project: string;
  let route: string;

  const put = (body: Uint8Array, key = editor) => fetch(`${stack.base}${route}`, { method: 'PUT', body, headers: { authorization: `Bearer ${key}` } });
  const missing = async (sha256s: string[]) => (await stack.rpc(BlobServiceDesc, 'FindMissingBlobs', { projectId: project, sha256s }, editor)).missing as string[];

  /**
   * A PUT declaring `declared` bytes (none: chunked) that sends `sent` and then ends its side, or,
   * as a client that loses its network, cuts the connection (`drop`), or waits for the answer
   * without sending more (`hold`); the status answered, or 0 when none came.
   */
  const rawPut = (declared: number | undefined, sent: Uint8Array, then: 'end' | 'drop' | 'hold') =>
    new Promise<{ status: number; body: string }>((resolve) => {
      const url = new URL(`${stack.base}${route}`);
      const headers = { authorization: `Bearer ${editor}`, ...(declared === undefined ? { 'transfer-encoding': 'chunked' } : { 'content-length': declared }) };
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'PUT', headers });
      req.on('error', () => resolve({ status: 0, body: '' }));
      req.on('response', (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => {
          resolve({ status: response.statusCode ?? 0, body });
          req.destroy();
        });
      });
      if (then === 'end') req.end(sent);
      else if (then === 'drop') req.write(sent, () => setImmediate(() => req.destroy()));
      else req.flushHeaders();
    });

  beforeAll(async () => {
    stack = await startMlflowStack([governanceService, dataService]);
    project = await stack.projectId('default');
    route = `/v1/data/projects/${project}/blobs`;
    editor = await stack.keyFor('unnamed-editor', 'ROLE_EDITOR');
    viewer = await stack.keyFor('unnamed-viewer', 'ROLE_VIEWER');
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('stores the body under the digest the service computes, answers it, and the same body again as already stored', async () => {
    const bytes = labelled('unnamed put', 5 * MiB + 7);
    const sha256 = sha256Of(bytes);
    expect(await missing([sha256])).toEqual([sha256]);

    const first = await put(bytes);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ sha256, size: String(bytes.length), storeName: 'default', alreadyStored: false });
    expect(await missing([sha256])).toEqual([]);
    const downloaded = await fetch(`${stack.base}${route}/${sha256}`, { headers: { authorization: `Bearer ${viewer}` } });
    expect(Buffer.from(await downloaded.arrayBuffer()).equals(bytes)).toBe(true);

    expect(await (await put(bytes)).json()).toMatchObject({ sha256, alreadyStored: true });
  });

  it('takes the same content-length rule and limit as the route with a digest, and refuses a viewer', async () => {
    const chunked = await rawPut(undefined, Buffer.from('no declared length'), 'end');
    expect(chunked.status).toBe(400);
    expect((JSON.parse(chunked.body) as Json).message).toContain('content-length');

    const tooLarge = await rawPut(5 * 1024 ** 3 + 1, Buffer.alloc(0), 'hold');
    expect(tooLarge.status).toBe(413);

    const denied = await put(Buffer.from('a viewer may not upload'), viewer);
    expect(denied.status).toBe(403);
    await denied.arrayBuffer();
  });

  it('stores nothing from a body cut short by a dropped connection', async () => {
    const bytes = labelled('dropped unnamed put', 6 * MiB);
    const sent = bytes.subarray(0, 2 * MiB);
    await rawPut(bytes.length, sent, 'drop');
    expect(await missing([sha256Of(bytes), sha256Of(sent)])).toEqual([sha256Of(bytes), sha256Of(sent)]);
    // The route still takes the whole body afterwards.
    expect(await (await put(bytes)).json()).toMatchObject({ sha256: sha256Of(bytes), alreadyStored: false });
  });
});

import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { checkManifest, PluginConfigError, type ObjectStore } from '@trellis/plugin-sdk';
import { createPluginInstance, describeStorageConformance } from '@trellis/plugin-sdk/testing';
import { S3_TEST_CREDENTIALS, startS3TestServer, type S3TestServer } from '../test/s3-test-server';
import packageJson from '../package.json';
import plugin from './index';
import { S3ObjectStore } from './s3-object-store';
import { s3ClientFor } from './s3-client';
import { storageS3Config } from './storage-s3.plugin';

const MiB = 1024 * 1024;

// The pinned SDK's notice that its releases after January 2027 need Node 22 (README.md).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const BUCKET = 'trellis-test';
let server: S3TestServer;
const stores: ObjectStore[] = [];

beforeAll(async () => {
  server = await startS3TestServer({ buckets: [BUCKET] });
});

afterAll(async () => {
  await Promise.all(stores.map((store) => store.close?.()));
  await server.close();
});

/** A config for the test server; every store gets a prefix of its own, so each starts empty. */
const configFor = (overrides: Record<string, unknown> = {}) => ({
  bucket: BUCKET,
  endpoint: server.endpoint,
  forcePathStyle: true,
  prefix: `spec-${randomUUID()}`,
  credentials: S3_TEST_CREDENTIALS,
  ...overrides,
});

async function storeWith(overrides: Record<string, unknown> = {}): Promise<ObjectStore> {
  const store = await createPluginInstance(plugin, configFor(overrides));
  stores.push(store);
  return store;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

describe('storage-s3', () => {
  it('declares a manifest the host loads, of the kind its package.json names', () => {
    expect(checkManifest(plugin.manifest)).toBeUndefined();
    expect(plugin.manifest).toMatchObject({ kind: 'storage', id: 'storage-s3' });
    expect(packageJson.trellis.kind).toBe(plugin.manifest.kind);
  });

  it('refuses a config without a bucket, with a bad bucket name, or with a key it does not know, naming it', async () => {
    await expect(createPluginInstance(plugin, {})).rejects.toThrow(/bucket/);
    await expect(createPluginInstance(plugin, { bucket: 'ab' })).rejects.toThrow(/bucket must be an S3 bucket name/);
    await expect(createPluginInstance(plugin, { ...configFor(), buckett: BUCKET })).rejects.toThrow(PluginConfigError);
    await expect(createPluginInstance(plugin, { ...configFor(), buckett: BUCKET })).rejects.toThrow(/buckett/);
    await expect(createPluginInstance(plugin, configFor({ partSizeMiB: 4 }))).rejects.toThrow(/partSizeMiB/);
  });

  it('stores keys under its prefix in the bucket, and sha256 with the object', async () => {
    const store = await storeWith({ prefix: 'under/here' });
    const put = await store.put('a/b.txt', Buffer.from('prefixed'));
    expect(await server.storedKeys(BUCKET)).toContain('under/here/a/b.txt');
    expect(await store.head('a/b.txt')).toMatchObject({ key: 'a/b.txt', size: 8, sha256: put.sha256 });
    expect((await store.list()).objects.map((o) => o.key)).toEqual(['a/b.txt']);
  });

  it('sends a body longer than one part, streamed or in memory, as a multipart upload, with its SHA-256 recorded', async () => {
    const store = await storeWith({ partSizeMiB: 5 });
    const chunk = Buffer.alloc(1024 * 1024, 7);
    const put = await store.put('big.bin', Readable.from(Array.from({ length: 12 }, () => chunk)));
    expect(put.size).toBe(12 * 1024 * 1024);
    expect(await store.head('big.bin')).toMatchObject({ size: put.size, sha256: put.sha256, etag: put.etag });
    const inMemory = Buffer.alloc(6 * 1024 * 1024, 9);
    const whole = await store.put('big-buffer.bin', inMemory);
    expect(await store.head('big-buffer.bin')).toMatchObject({ size: inMemory.length, sha256: whole.sha256 });
    expect((await readAll(await store.get('big-buffer.bin'))).equals(inMemory)).toBe(true);
  });

  it('copies part by part (UploadPartCopy) above the single-copy limit, recording the SHA-256 of a multipart put the same way', async () => {
    const config = configFor();
    const store = new S3ObjectStore({
      client: s3ClientFor(storageS3Config.parse(config)),
      bucket: BUCKET,
      prefix: config.prefix,
      partSize: 5 * MiB,
      spoolDir: tmpdir(),
      copyLimits: { single: 6 * MiB, part: 5 * MiB },
    });
    stores.push(store);
    const bytes = Buffer.alloc(12 * MiB + 5);
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = (i / 4096) & 0xff;
    const put = await store.put('parts/source.bin', Readable.from([bytes.subarray(0, 6 * MiB), bytes.subarray(6 * MiB)]));
    expect(await store.head('parts/source.bin')).toMatchObject({ size: bytes.length, sha256: put.sha256, etag: put.etag });
    const copied = await store.copy('parts/source.bin', 'parts/copy.bin');
    expect(copied).toMatchObject({ size: bytes.length, sha256: put.sha256 });
    expect(await store.head('parts/copy.bin')).toMatchObject({ size: bytes.length, sha256: put.sha256, etag: copied.etag });
    expect((await readAll(await store.get('parts/copy.bin'))).equals(bytes)).toBe(true);
  });

  it('works with credentials given as a frozen object (the SDK marks the object it is given)', async () => {
    const config = configFor();
    const client = s3ClientFor({ region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true, credentials: Object.freeze({ ...S3_TEST_CREDENTIALS }) });
    const store = new S3ObjectStore({ client, bucket: BUCKET, prefix: config.prefix, partSize: 5 * MiB, spoolDir: tmpdir() });
    stores.push(store);
    expect(await store.put('frozen.txt', Buffer.from('ok'))).toMatchObject({ size: 2 });
  });

  it('issues presigned GET and PUT URLs that fetch can use', async () => {
    const store = await storeWith();
    const putUrl = await store.presign!('signed/up.txt', { method: 'PUT', expiresInSeconds: 60 });
    const uploaded = await fetch(putUrl, { method: 'PUT', body: 'sent without the SDK' });
    expect(uploaded.status).toBe(200);
    const getUrl = await store.presign!('signed/up.txt', { method: 'GET', expiresInSeconds: 60 });
    expect(await (await fetch(getUrl)).text()).toBe('sent without the SDK');
    await expect(store.presign!('signed/up.txt', { method: 'GET', expiresInSeconds: 0 })).rejects.toThrow(/expiresInSeconds/);
    await expect(store.presign!('../up', { method: 'GET', expiresInSeconds: 60 })).rejects.toMatchObject({ code: 'INVALID_KEY' });
  });

  it('copies inside the bucket, also an object a presigned PUT wrote without a SHA-256', async () => {
    const store = await storeWith();
    await fetch(await store.presign!('raw.txt', { method: 'PUT', expiresInSeconds: 60 }), { method: 'PUT', body: 'raw bytes' });
    expect((await store.head('raw.txt'))?.sha256).toBeUndefined();
    const copied = await store.copy!('raw.txt', 'copied.txt');
    expect(copied).toMatchObject({ key: 'copied.txt', size: 9 });
    expect(await store.head('copied.txt')).toMatchObject({ sha256: copied.sha256, etag: copied.etag });
    expect((await readAll(await store.get('copied.txt'))).toString()).toBe('raw bytes');
  });

  it('fails with a message naming the bucket and the operation, without the secret, when credentials are refused', async () => {
    const store = await storeWith({ credentials: { accessKeyId: 'NOT-A-KEY', secretAccessKey: 'do-not-print-me' } });
    const failure = store.put('x', Buffer.from('x'));
    await expect(failure).rejects.toThrow(/PutObject of "x" in bucket "trellis-test" failed: InvalidAccessKeyId/);
    await expect(failure).rejects.not.toThrow(/do-not-print-me/);
    expect(await store.health!()).toMatchObject({ ok: false });
  });

  it('is healthy while its bucket answers, and says so when the bucket is missing', async () => {
    expect(await (await storeWith()).health!()).toEqual({ ok: true });
    expect(await (await storeWith({ bucket: 'no-such-bucket' })).health!()).toEqual({ ok: false, message: 'bucket "no-such-bucket" does not exist' });
  });
});

describeStorageConformance('storage-s3 on s3rver', () => storeWith());

// An S3-compatible server for specs: s3rver 3.7 in this process, on a free port, over a temporary
// directory. s3rver writes objects in place and skips several of S3's checks, so the store below
// gives it the S3 behaviour the storage contract relies on (and real S3 has): a write or copy
// replaces an object whole (staged, then renamed), a reader keeps the version it opened, listings
// come in UTF-8 byte order, and multipart uploads are checked (NoSuchUpload, InvalidPart,
// InvalidPartOrder, EntityTooSmall) and can be aborted.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import S3rver from 's3rver';
import S3Error from 's3rver/lib/models/error';
import S3Object from 's3rver/lib/models/object';
import FilesystemStore from 's3rver/lib/stores/filesystem';

/** s3rver's fixed credentials: the only ones it accepts. (Not frozen: the SDK marks the credentials object it is given.) */
export const S3_TEST_CREDENTIALS: { readonly accessKeyId: string; readonly secretAccessKey: string } = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** A running test server. */
export interface S3TestServer {
  /** `http://127.0.0.1:<port>`. */
  endpoint: string;
  /** Where the server keeps its buckets: `<directory>/<bucket>/...`. */
  directory: string;
  /** The files of the objects stored in `bucket`, as keys, in byte order. */
  storedKeys(bucket: string): Promise<string[]>;
  /** Stops the server and removes its directory. */
  close(): Promise<void>;
}

const OBJECT_SUFFIX = '._S3rver_object';
const UPLOADS = '._S3rver_uploads';
const UPLOAD_ID = /^[0-9a-f]{32}$/;
const MIN_PART_SIZE = 5 * 1024 * 1024;

interface ListingState {
  truncated: boolean;
}
const listingState = new AsyncLocalStorage<ListingState>();

/** Starts s3rver with `buckets` created, on 127.0.0.1 and a port the system picks. */
export async function startS3TestServer(options: { buckets: string[] }): Promise<S3TestServer> {
  const base = await mkdtemp(join(tmpdir(), 'trellis-s3rver-'));
  const directory = join(base, 'buckets');
  const staging = join(base, 'staging');
  await mkdir(directory);
  await mkdir(staging);
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: options.buckets.map((name) => ({ name })) });
  const store = new AtomicFilesystemStore(directory, staging);
  server.store = store;
  server.context.store = store;
  // Before s3rver's router, which refuses what s3rver does not implement. These requests skip its
  // signature check, which is no loss for a test server.
  server.middleware.splice(server.middleware.length - 1, 0, async (context, next) => {
    const ctx = context as KoaContext;
    if (ctx.method === 'DELETE' && ctx.query['uploadId'] !== undefined) return abortUpload(ctx, directory);
    if (ctx.method === 'PUT' && ctx.query['uploadId'] !== undefined && ctx.headers['x-amz-copy-source'] !== undefined) return uploadPartCopy(ctx, store);
    // s3rver makes a continuation token for a truncated listing with DES, which Node 20's OpenSSL
    // refuses: the store reports truncation here instead, and clients page with StartAfter.
    const listing: ListingState = { truncated: false };
    await listingState.run(listing, next);
    const body = ctx.body as { ListBucketResult?: { IsTruncated?: boolean } } | undefined;
    if (listing.truncated && body?.ListBucketResult) body.ListBucketResult.IsTruncated = true;
  });
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    directory,
    storedKeys: (bucket) => objectKeys(join(directory, bucket)),
    close: async () => {
      await server.close();
      await rm(base, { recursive: true, force: true });
    },
  };
}

/** What the middleware reads and sets of koa's context. */
interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | undefined>;
  headers: Record<string, string | undefined>;
  status: number;
  body: unknown;
}

/** AbortMultipartUpload, which s3rver lacks: drops the upload's parts. */
async function abortUpload(ctx: KoaContext, directory: string): Promise<void> {
  const bucket = decodeURIComponent(ctx.path.split('/')[1] ?? '');
  const uploadId = ctx.query['uploadId'] ?? '';
  if (UPLOAD_ID.test(uploadId)) await rm(join(directory, bucket, UPLOADS, uploadId), { recursive: true, force: true });
  ctx.status = 204;
}

/** UploadPartCopy, which s3rver lacks: a byte range of a stored object becomes a part. */
async function uploadPartCopy(ctx: KoaContext, store: AtomicFilesystemStore): Promise<void> {
  const bucket = decodeURIComponent(ctx.path.split('/')[1] ?? '');
  const [sourceBucket, ...keyParts] = decodeURIComponent(ctx.headers['x-amz-copy-source'] ?? '').replace(/^\//, '').split('/');
  const range = /^bytes=(\d+)-(\d+)$/.exec(ctx.headers['x-amz-copy-source-range'] ?? '');
  const path = store.getResourcePath(sourceBucket ?? '', keyParts.join('/'), 'object');
  if (!(await stat(path).catch(() => undefined))) throw new S3Error('NoSuchKey', 'The specified key does not exist.');
  const content = createReadStream(path, range ? { start: Number(range[1]), end: Number(range[2]) } : {});
  const { md5 } = await store.putPart(bucket, ctx.query['uploadId'] ?? '', Number(ctx.query['partNumber']), content);
  ctx.body = { CopyPartResult: { LastModified: new Date().toISOString(), ETag: JSON.stringify(md5) } };
}

class AtomicFilesystemStore extends FilesystemStore {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    root: string,
    private readonly staging: string,
  ) {
    super(root);
  }

  override getObject(bucket: string, key: string, options?: unknown): Promise<unknown> {
    return this.critical(() => super.getObject(bucket, key, options));
  }

  override deleteObject(bucket: string, key: string): Promise<void> {
    return this.critical(() => super.deleteObject(bucket, key));
  }

  async putObject(object: S3Object & { bucket: string; key: string }): Promise<{ size: number; md5: string }> {
    const temp = join(this.staging, randomUUID());
    try {
      const { size, md5 } = await writeHashed(object.content, temp);
      const declared = object.metadata['content-length'];
      if (declared !== undefined && Number(declared) !== size) throw new S3Error('IncompleteBody', `got ${size} of ${declared} bytes`);
      await this.critical(async () => {
        const path = this.getResourcePath(object.bucket, object.key, 'object');
        await mkdir(dirname(path), { recursive: true });
        await rename(temp, path);
        await this.putMetadata(object.bucket, object.key, object.metadata, md5);
      });
      return { size, md5 };
    } finally {
      await rm(temp, { force: true });
    }
  }

  async copyObject(srcBucket: string, srcKey: string, destBucket: string, destKey: string, replacement: Record<string, string> | null): Promise<Record<string, string>> {
    return this.critical(async () => {
      const from = (resource: string) => this.getResourcePath(srcBucket, srcKey, resource);
      const to = (resource: string) => this.getResourcePath(destBucket, destKey, resource);
      const source = await this.getMetadata(srcBucket, srcKey);
      if (from('object') !== to('object')) {
        const temp = join(this.staging, randomUUID());
        await copyFile(from('object'), temp);
        await mkdir(dirname(to('object')), { recursive: true });
        await rename(temp, to('object'));
        await copyFile(from('object.md5'), to('object.md5'));
        await this.putMetadata(destBucket, destKey, source);
      }
      if (replacement) await this.putMetadata(destBucket, destKey, replacement);
      return this.getMetadata(destBucket, destKey);
    });
  }

  override listObjects(bucket: string, options: Record<string, unknown>): Promise<unknown> {
    if (options['delimiter']) return super.listObjects(bucket, options);
    return this.critical(async () => {
      const prefix = String(options['prefix'] ?? '');
      const after = Buffer.from(String(options['startAfter'] ?? ''));
      const maxKeys = Number(options['maxKeys'] ?? 1000);
      const keys = (await objectKeys(this.getBucketPath(bucket))).filter((key) => key.startsWith(prefix) && Buffer.compare(Buffer.from(key), after) > 0);
      const page = keys.slice(0, maxKeys);
      const objects = await Promise.all(page.map(async (key) => new S3Object(bucket, key, null, await this.getMetadata(bucket, key))));
      const listing = listingState.getStore();
      if (listing) listing.truncated = keys.length > page.length;
      return { objects, commonPrefixes: [], isTruncated: false };
    });
  }

  async putPart(bucket: string, uploadId: string, partNumber: number, content: Readable): Promise<{ size: number; md5: string }> {
    const dir = await this.uploadDir(bucket, uploadId);
    const temp = join(this.staging, randomUUID());
    try {
      const { size, md5 } = await writeHashed(content, temp);
      await rename(temp, join(dir, String(partNumber)));
      await writeFile(join(dir, `${partNumber}.md5`), md5);
      return { size, md5 };
    } finally {
      await rm(temp, { force: true });
    }
  }

  async putObjectMultipart(bucket: string, uploadId: string, parts: { number: number; etag: string }[]): Promise<{ size: number; md5: string }> {
    const dir = await this.uploadDir(bucket, uploadId);
    for (const [index, part] of parts.entries()) {
      if (index > 0 && part.number <= parts[index - 1].number) throw new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order.');
      const md5 = await readFile(join(dir, `${part.number}.md5`), 'utf8').catch(() => undefined);
      if (md5 !== part.etag) throw new S3Error('InvalidPart', `Part ${part.number} could not be found or its ETag does not match.`);
      if (index < parts.length - 1 && (await stat(join(dir, String(part.number)))).size < MIN_PART_SIZE) {
        throw new S3Error('EntityTooSmall', `Part ${part.number} is smaller than the minimum allowed size.`);
      }
    }
    const [key, metadata] = await Promise.all([readFile(join(dir, 'key'), 'utf8'), readFile(join(dir, 'metadata'), 'utf8').then((text) => JSON.parse(text) as Record<string, string>)]);
    const joined = Readable.from(
      (async function* () {
        for (const part of parts) yield* createReadStream(join(dir, String(part.number)));
      })(),
    );
    const { 'content-length': _length, ...kept } = metadata;
    const object = Object.assign(new S3Object(bucket, key, joined, kept), { bucket, key });
    const result = await this.putObject(object);
    await rm(dir, { recursive: true, force: true });
    return result;
  }

  private async uploadDir(bucket: string, uploadId: string): Promise<string> {
    const dir = join(this.getBucketPath(bucket), UPLOADS, uploadId);
    if (!UPLOAD_ID.test(uploadId) || !(await stat(dir).catch(() => undefined))) {
      throw new S3Error('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.');
    }
    return dir;
  }

  private critical<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

async function writeHashed(content: unknown, path: string): Promise<{ size: number; md5: string }> {
  const hash = createHash('md5');
  let size = 0;
  const source = Buffer.isBuffer(content) ? Readable.from([content]) : (content as Readable);
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(source, counter, createWriteStream(path));
  return { size, md5: hash.digest('hex') };
}

/** The keys of the objects under a bucket's directory, in UTF-8 byte order. */
async function objectKeys(bucketDir: string): Promise<string[]> {
  const entries = await readdir(bucketDir, { recursive: true }).catch(() => [] as string[]);
  return entries
    .filter((entry) => entry.endsWith(OBJECT_SUFFIX) && !entry.startsWith(UPLOADS))
    .map((entry) => entry.split(sep).join('/').slice(0, -OBJECT_SUFFIX.length))
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

import type { MessageInitShape } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { BlobServiceDesc, DataServiceDesc } from '@trellis/proto';
import type { UploadBlobPartRequestSchema, UploadBlobRequestSchema } from '@trellis/proto/trellis/data/v1/blob_service_pb';
import { badRequest, GatewayError } from '../errors/gateway-error';
import type { RequestContext } from '../http/request-context';
import type { RouteHost } from '../route-host';
import { sendStream } from '../mlflow/streamed-response';
import { byteRangeOf } from './byte-range';
import { bodyAfter, streamingUpload } from './streamed-body';

/** The largest part one PUT takes (S3's largest part). */
export const MAX_PART_BYTES = 5 * 1024 ** 3;

/** The largest blob one PUT takes; larger ones go in parts. */
export const MAX_SINGLE_PUT_BYTES = 5 * 1024 ** 3;

/** Where the data service's byte routes live; the rest of BlobService is at `/v1/trellis.data.v1.BlobService/<Method>` as JSON. */
export const DATA_HTTP_PREFIX = '/v1/data';

/** The body's declared length: these routes stream, so the size is announced up front and checked by the data service. */
function contentLength(ctx: RequestContext, limit: number): number {
  const header = ctx.req.headers['content-length'];
  const length = header === undefined ? Number.NaN : Number(header);
  if (!Number.isSafeInteger(length) || length < 0) throw badRequest('content-length: the request must declare its body length (no chunked transfer), which the data service checks');
  if (length > limit) throw ctx.tooLarge('the body');
  return length;
}

/** `?offset=&length=` of a download, as the service takes them (length 0 or absent: to the end). */
function rangeOf(ctx: RequestContext): { offset: bigint; length: bigint } {
  const field = (name: string) => {
    const text = ctx.query.get(name) ?? '0';
    if (!/^\d{1,15}$/.test(text)) throw badRequest(`${name}: must be a whole number of bytes`);
    return BigInt(text);
  };
  return { offset: field('offset'), length: field('length') };
}

/**
 * The bytes a GET of a file asks for, and the status that answers it: a `Range` header's single
 * range (206, with Content-Range and Content-Length; 416 naming the size when it starts past the
 * end), else `?offset=&length=` (200). `size` is asked for only when there is a Range header; when
 * it is unknown (no such file), the whole file is asked for, and the download answers why not.
 */
async function requestedBytes(ctx: RequestContext, size: () => Promise<number | undefined>): Promise<{ offset: bigint; length: bigint; status: number }> {
  const header = ctx.req.headers.range;
  if (header === undefined) return { ...rangeOf(ctx), status: 200 };
  if (ctx.query.has('offset') || ctx.query.has('length')) throw badRequest('range: ask for bytes with the Range header or with ?offset=&length=, not both');
  const total = await size();
  const range = total === undefined ? undefined : byteRangeOf(header, total);
  if (range === undefined || total === undefined) return { offset: 0n, length: 0n, status: 200 };
  if (range === 'unsatisfiable') {
    ctx.res.setHeader('content-range', `bytes */${total}`);
    throw new GatewayError(status.OUT_OF_RANGE, `range: ${header.slice(0, 64)} is not within the file's ${total} bytes`, 416);
  }
  const length = range.end - range.start + 1;
  ctx.res.setHeader('content-range', `bytes ${range.start}-${range.end}/${total}`);
  ctx.res.setHeader('content-length', length);
  return { offset: BigInt(range.start), length: BigInt(length), status: 206 };
}

/** The `:version` segment, a version number. */
function versionOf(ctx: RequestContext): bigint {
  if (!/^\d{1,15}$/.test(ctx.params.version)) throw badRequest('version: must be a version number');
  return BigInt(ctx.params.version);
}

/**
 * The data service's byte routes, which JSON cannot carry well:
 * - `PUT /v1/data/projects/:projectId/blobs/:sha256`: the body is the blob (UploadBlob);
 * - `PUT /v1/data/projects/:projectId/blobs`: the body is a blob stored under the digest the data
 *   service computes, which the answer names (UploadBlob with an empty digest): a client sends a
 *   file while it hashes it, and compares the digests;
 * - `PUT /v1/data/uploads/:uploadId/parts/:partNumber`: the body is one part of an upload in parts
 *   (UploadBlobPart); a client whose connection dropped lists the parts stored
 *   (`POST /v1/trellis.data.v1.BlobService/ListBlobUploadParts`) and sends the others;
 * - `GET /v1/data/projects/:projectId/blobs/:sha256[?offset=&length=]`: the blob, or bytes of it;
 * - `GET /v1/data/datasets/:datasetId/versions/:version/files/<path>[?offset=&length=]`: a version's file,
 *   or a single range of it (`Range: bytes=a-b`, `bytes=a-`, `bytes=-n`: 206, or 416 past its end);
 * - `GET /v1/data/datasets/:datasetId/versions/:version/tar[?path_prefix=]`: the version as a tar stream.
 * Bodies stream both ways with backpressure; the declared length is the size the service checks.
 */
export function dataHttpRoutes(gateway: RouteHost): void {
  const blobs = async (ctx: RequestContext) => {
    const rpc = await gateway.clientsFor(ctx);
    return { client: rpc.of(BlobServiceDesc), options: rpc.options };
  };

  const putBlob = async (ctx: RequestContext, sha256: string) => {
    const size = contentLength(ctx, MAX_SINGLE_PUT_BYTES);
    const { client, options } = await blobs(ctx);
    const header: MessageInitShape<typeof UploadBlobRequestSchema> = { part: { case: 'header', value: { projectId: ctx.params.projectId, sha256, size: BigInt(size) } } };
    const requests = bodyAfter(ctx, header, (bytes): MessageInitShape<typeof UploadBlobRequestSchema> => ({ part: { case: 'chunk', value: bytes } }));
    const stored = await streamingUpload(ctx, () => client.uploadBlob(requests, options));
    ctx.sendJson(200, { sha256: stored.blob?.sha256, size: String(stored.blob?.size ?? 0n), storeName: stored.blob?.storeName, alreadyStored: stored.alreadyStored });
  };
  gateway.router.add('PUT', `${DATA_HTTP_PREFIX}/projects/:projectId/blobs/:sha256`, (ctx) => putBlob(ctx, ctx.params.sha256), { maxBodyBytes: MAX_SINGLE_PUT_BYTES });
  gateway.router.add('PUT', `${DATA_HTTP_PREFIX}/projects/:projectId/blobs`, (ctx) => putBlob(ctx, ''), { maxBodyBytes: MAX_SINGLE_PUT_BYTES });

  gateway.router.add(
    'PUT',
    `${DATA_HTTP_PREFIX}/uploads/:uploadId/parts/:partNumber`,
    async (ctx) => {
      const partNumber = Number(ctx.params.partNumber);
      if (!Number.isInteger(partNumber)) throw badRequest('partNumber: must be an integer from 1 to 10000');
      const size = contentLength(ctx, MAX_PART_BYTES);
      const { client, options } = await blobs(ctx);
      const header: MessageInitShape<typeof UploadBlobPartRequestSchema> = { part: { case: 'header', value: { uploadId: ctx.params.uploadId, partNumber, size: BigInt(size) } } };
      const requests = bodyAfter(ctx, header, (bytes): MessageInitShape<typeof UploadBlobPartRequestSchema> => ({ part: { case: 'chunk', value: bytes } }));
      const stored = await streamingUpload(ctx, () => client.uploadBlobPart(requests, options));
      ctx.sendJson(200, { partNumber: stored.part?.partNumber, size: String(stored.part?.size ?? 0n) });
    },
    { maxBodyBytes: MAX_PART_BYTES },
  );

  gateway.router.add('GET', `${DATA_HTTP_PREFIX}/datasets/:datasetId/versions/:version/files/*`, async (ctx) => {
    const rpc = await gateway.clientsFor(ctx);
    const [datasetId, version, path] = [ctx.params.datasetId, versionOf(ctx), ctx.params['*']];
    ctx.res.setHeader('accept-ranges', 'bytes');
    // A path sorts first among the paths it prefixes: the page of one is the file, if the version has it.
    const size = async () => {
      const { files } = await rpc.of(DataServiceDesc).listDatasetVersionFiles({ datasetId, version, pathPrefix: path, pageSize: 1 }, rpc.options);
      return files[0]?.path === path ? Number(files[0].sizeBytes) : undefined;
    };
    const { status: answer, ...range } = await requestedBytes(ctx, size);
    const chunks = rpc.of(BlobServiceDesc).downloadDatasetFile({ datasetId, version, path, ...range }, rpc.options);
    ctx.res.setHeader('content-disposition', `attachment; filename="${encodeURIComponent(path.slice(path.lastIndexOf('/') + 1))}"`);
    ctx.res.setHeader('x-content-type-options', 'nosniff');
    await sendStream(ctx, 'application/octet-stream', '', '', chunks, (response) => response.chunk, answer);
  });

  gateway.router.add('GET', `${DATA_HTTP_PREFIX}/datasets/:datasetId/versions/:version/tar`, async (ctx) => {
    const { client, options } = await blobs(ctx);
    const version = versionOf(ctx);
    const chunks = client.downloadDatasetVersionTar({ datasetId: ctx.params.datasetId, version, pathPrefix: ctx.query.get('path_prefix') ?? '' }, options);
    ctx.res.setHeader('content-disposition', `attachment; filename="${encodeURIComponent(ctx.params.datasetId)}-${version}.tar"`);
    await sendStream(ctx, 'application/x-tar', '', '', chunks, (response) => response.chunk);
  });

  gateway.router.add('GET', `${DATA_HTTP_PREFIX}/projects/:projectId/blobs/:sha256`, async (ctx) => {
    const range = rangeOf(ctx);
    const { client, options } = await blobs(ctx);
    const chunks = client.downloadBlob({ projectId: ctx.params.projectId, sha256: ctx.params.sha256, ...range }, options);
    ctx.res.setHeader('x-content-type-options', 'nosniff');
    await sendStream(ctx, 'application/octet-stream', '', '', chunks, (response) => response.chunk);
  });
}

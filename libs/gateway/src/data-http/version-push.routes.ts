import { toJson, type MessageInitShape } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { excerpt } from '@trellis/platform';
import { DataServiceDesc } from '@trellis/proto';
import { CommitDatasetVersionTarResponseSchema, type CommitDatasetVersionTarRequestSchema } from '@trellis/proto/trellis/data/v1/data_service_pb';
import { badRequest, GatewayError } from '../errors/gateway-error';
import type { RequestContext } from '../http/request-context';
import type { RouteHost } from '../route-host';
import { DATA_HTTP_PREFIX } from './blob.routes';
import { bodyAfter, streamingUpload } from './streamed-body';

/** The largest archive one push takes, when its length is declared (S3's largest object; a chunked body is bounded by the files the version may hold). */
export const MAX_PUSH_BYTES = 5 * 1024 ** 4;

type Request = MessageInitShape<typeof CommitDatasetVersionTarRequestSchema>;

/** The commit's header from the query: `parent` (a version number), `message`, `tag` (repeated), `full_manifest` (`true` or `false`). */
function headerOf(ctx: RequestContext): Request {
  const parent = ctx.query.get('parent') ?? '0';
  if (!/^\d{1,15}$/.test(parent)) throw badRequest('parent: must be a version number (0 or absent for none)');
  const fullManifest = ctx.query.get('full_manifest') ?? 'false';
  if (fullManifest !== 'true' && fullManifest !== 'false') throw badRequest('full_manifest: must be true or false');
  const value = { datasetId: ctx.params.datasetId, parentVersion: BigInt(parent), message: ctx.query.get('message') ?? '', tags: ctx.query.getAll('tag'), fullManifest: fullManifest === 'true' };
  return { part: { case: 'header', value } };
}

/** Refuses a body that is not declared as a tar archive, and a declared length over the limit. */
function checkBody(ctx: RequestContext): void {
  const contentType = ctx.req.headers['content-type'];
  if (contentType?.split(';')[0].trim().toLowerCase() !== 'application/x-tar') {
    const sent = contentType === undefined ? 'no Content-Type' : `Content-Type: ${excerpt(contentType, 64)}`;
    throw new GatewayError(status.INVALID_ARGUMENT, `the request body must be a tar archive sent with Content-Type: application/x-tar; this request has ${sent}`, 415);
  }
  if (Number(ctx.req.headers['content-length']) > MAX_PUSH_BYTES) throw ctx.tooLarge('the archive');
}

/**
 * `POST /v1/data/datasets/:datasetId/versions[?parent=&message=&tag=&full_manifest=]` with a tar
 * archive as the body (`Content-Type: application/x-tar`) commits it as a version in one call
 * (CommitDatasetVersionTar): `tar -C dir -c . | curl -T - -H 'Content-Type: application/x-tar' ...`.
 * The body streams into the call with backpressure; its length need not be declared (the archive
 * ends with its own end marker, so one cut short is refused). Answers the call's response as JSON.
 */
export function versionPushRoutes(gateway: RouteHost): void {
  gateway.router.add(
    'POST',
    `${DATA_HTTP_PREFIX}/datasets/:datasetId/versions`,
    async (ctx) => {
      checkBody(ctx);
      const header = headerOf(ctx);
      const rpc = await gateway.clientsFor(ctx);
      const requests = bodyAfter(ctx, header, (bytes): Request => ({ part: { case: 'chunk', value: bytes } }));
      const pushed = await streamingUpload(ctx, () => rpc.of(DataServiceDesc).commitDatasetVersionTar(requests, rpc.options));
      ctx.sendJson(200, toJson(CommitDatasetVersionTarResponseSchema, pushed, { alwaysEmitImplicit: true }));
    },
    { maxBodyBytes: MAX_PUSH_BYTES },
  );
}

import type { MessageInitShape } from '@bufbuild/protobuf';
import { excerpt } from '@trellis/platform';
import { ArtifactServiceDesc, type FileInfo, type UploadArtifactRequestSchema } from '@trellis/proto';
import { safeArtifactPath } from './artifact-path';
import type { MlflowCall, MlflowRoute } from './mlflow-call';
import { invalidParameter, missingParameter } from './mlflow-errors';
import { fileInfoJson, withPageToken } from './mlflow-json';
import { isVersionArtifactPath, listVersionArtifacts } from './registry-artifacts.routes';
import { sendAttachment, sendStream } from './streamed-response';

/** The largest artifact one PUT uploads; MLflow's proxy sets none, and tracking streams whatever it gets. */
const MAX_ARTIFACT_BYTES = 5 * 1024 ** 3;

/** Entries per page of tracking's listing: its largest page, so MLflow's pages stay as they were. */
const LIST_PAGE = 1000;

const artifacts = (call: MlflowCall) => call.rpc.of(ArtifactServiceDesc);

/**
 * A path of MLflow's proxied artifact store, `<experiment_id>/<run_id>/artifacts/<path>` (a run's
 * `artifact_uri` is `mlflow-artifacts:/<experiment_id>/<run_id>/artifacts`), as the run and the
 * path under its artifact root. Tracking keys a run's files by its own experiment, so the
 * experiment segment is not checked; tracking checks the path under the root again.
 */
export function proxiedArtifactPath(path: string): { runId: string; path: string } {
  const segments = safeArtifactPath(path).split('/');
  if (segments.length < 3 || !segments[0] || !segments[1] || segments[2] !== 'artifacts') {
    throw invalidParameter(`'${excerpt(path)}' is not a path in a run's artifacts: expected <experiment_id>/<run_id>/artifacts[/<path>]`);
  }
  return { runId: segments[1], path: segments.slice(3).join('/') };
}

function wildcardPath(call: MlflowCall): { runId: string; path: string } {
  const target = proxiedArtifactPath(call.ctx.params['*']);
  if (!target.path) throw invalidParameter(`'${excerpt(call.ctx.params['*'])}' names a run's artifact root, not a file`);
  return target;
}

/** Every entry directly under a directory, through all of tracking's pages. */
async function listAll(call: MlflowCall, runId: string, path: string): Promise<FileInfo[]> {
  const files: FileInfo[] = [];
  let pageToken = '';
  do {
    const page = await artifacts(call).listArtifacts({ runId, path, pageSize: LIST_PAGE, pageToken }, call.rpc.options);
    files.push(...page.files);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return files;
}

/**
 * Streams the request body into tracking's client-streaming upload, a header and then the body's
 * chunks as they arrive, without holding the file. A failed upload leaves the rest of the body
 * unread, so the connection closes after the answer.
 */
async function upload(call: MlflowCall): Promise<unknown> {
  const { ctx } = call;
  const { runId, path } = wildcardPath(call);
  if (Number(ctx.req.headers['content-length']) > MAX_ARTIFACT_BYTES) throw ctx.tooLarge('the artifact');
  let failure: unknown;
  async function* requests(): AsyncGenerator<MessageInitShape<typeof UploadArtifactRequestSchema>> {
    yield { part: { case: 'header', value: { runId, path } } };
    let size = 0;
    for await (const chunk of ctx.req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_ARTIFACT_BYTES) throw (failure = ctx.tooLarge('the artifact'));
      yield { part: { case: 'chunk', value: chunk } };
    }
  }
  try {
    await artifacts(call).uploadArtifact(requests(), call.rpc.options);
  } catch (error) {
    if (!ctx.req.complete) ctx.res.setHeader('connection', 'close');
    throw failure ?? error;
  }
  return {};
}

async function download(call: MlflowCall): Promise<void> {
  const { runId, path } = wildcardPath(call);
  const chunks = artifacts(call).downloadArtifact({ runId, path }, call.rpc.options);
  await sendStream(call.ctx, 'application/octet-stream', '', '', chunks, (response) => response.chunk);
}

/** `GET /get-artifact?run_id=&path=`, with which MLflow's UI shows a run's file. */
export const runArtifactFileRoute: MlflowRoute = {
  method: 'GET',
  path: '/get-artifact',
  streams: true,
  async handle(call) {
    const fields = await call.fields();
    const runId = fields.runId();
    const path = safeArtifactPath(fields.requiredString('path'));
    await sendAttachment(call.ctx, path, artifacts(call).downloadArtifact({ runId, path }, call.rpc.options), (response) => response.chunk);
  },
};

/** Artifacts: tracking's listing, and MLflow's proxied artifact store (`mlflow-artifacts:` URIs). */
export const artifactRoutes: readonly MlflowRoute[] = [
  {
    // Paths are relative to the run's artifact root (`dir/file.txt`), as MLflow's artifacts/list names them.
    method: 'GET',
    path: '/mlflow/artifacts/list',
    async handle(call) {
      const fields = await call.fields();
      const request = { runId: fields.runId(), path: safeArtifactPath(fields.string('path') ?? ''), pageSize: LIST_PAGE, pageToken: fields.string('page_token') ?? '' };
      const page = await artifacts(call).listArtifacts(request, call.rpc.options);
      return withPageToken({ root_uri: page.rootUri, files: page.files.map((file) => fileInfoJson(file)) }, page.nextPageToken);
    },
  },
  {
    // Entries are named by base name, as MLflow's proxy names them; the client joins them to the path it listed.
    // Paths under models/ are a model version's files (registry-artifacts.routes.ts).
    method: 'GET',
    path: '/mlflow-artifacts/artifacts',
    async handle(call) {
      const asked = (await call.fields()).string('path');
      if (!asked) throw missingParameter('path');
      const listed = safeArtifactPath(asked);
      if (isVersionArtifactPath(listed)) return listVersionArtifacts(call, listed);
      const { runId, path } = proxiedArtifactPath(listed);
      const files = await listAll(call, runId, path);
      return { files: files.map((file) => fileInfoJson(file, file.path.slice(file.path.lastIndexOf('/') + 1))) };
    },
  },
  { method: 'PUT', path: '/mlflow-artifacts/artifacts/*', handle: upload, maxBodyBytes: MAX_ARTIFACT_BYTES },
  { method: 'GET', path: '/mlflow-artifacts/artifacts/*', handle: download, streams: true },
  {
    method: 'DELETE',
    path: '/mlflow-artifacts/artifacts/*',
    async handle(call) {
      await artifacts(call).deleteArtifact(wildcardPath(call), call.rpc.options);
      return {};
    },
  },
];

import type { ModelVersion, VersionFile } from '@trellis/proto';
import { safeArtifactPath } from './artifact-path';
import type { MlflowCall, MlflowRoute } from './mlflow-call';
import { invalidParameter } from './mlflow-errors';
import { fileInfoJson } from './mlflow-json';
import { registry, versionKeyOf } from './registry-call';
import { sendAttachment, sendStream } from './streamed-response';

/**
 * The first segment of the proxied paths of model versions: `models/<project>/<name>/<version>/<path>`.
 * Tracking's proxied paths start with an experiment id, which is all digits, so the two never meet.
 */
const MODELS = 'models';

/** The registry's largest page of a version's files; MLflow's listing has no pages, so the gateway reads them all. */
const LISTING_PAGE_SIZE = 1000;

/**
 * What `get-download-uri` answers: for a version whose files the registry copied,
 * `mlflow-artifacts:/models/<project>/<name>/<version>`, which the client turns into gateway URLs
 * as it does a run's artifact URI; for a reference, the URI it refers to.
 */
export function versionDownloadUri(projectName: string, version: ModelVersion): string {
  if (!version.storageUri.startsWith('registry:')) return version.storageUri;
  return `mlflow-artifacts:/${MODELS}/${projectName}/${version.modelName}/${version.version}`;
}

/** Whether a proxied path (of a listing) is under a model version rather than a run. */
export function isVersionArtifactPath(path: string): boolean {
  return path === MODELS || path.startsWith(`${MODELS}/`);
}

/** A proxied path `models/<project>/<name>/<version>[/<path>]` as the version and the path in its files. */
export function versionArtifactPath(path: string): { project: string; name: string; version: bigint; path: string } {
  const segments = safeArtifactPath(path).split('/');
  const [root, project, name, version] = segments;
  if (root !== MODELS || !project || !name || !/^[1-9]\d{0,9}$/.test(version ?? '')) {
    throw invalidParameter(`'${path}' is not a path in a model version's files: expected ${MODELS}/<project>/<name>/<version>[/<path>]`);
  }
  return { project, name, version: BigInt(version), path: segments.slice(4).join('/') };
}

/** The proxied listing (`GET mlflow-artifacts/artifacts?path=models/...`): every entry, by base name, as for runs. */
export async function listVersionArtifacts(call: MlflowCall, listed: string): Promise<unknown> {
  const { project, name: modelName, ...file } = versionArtifactPath(listed);
  const projectId = await call.projectIdOf(project);
  const files: VersionFile[] = [];
  let pageToken = '';
  do {
    const page = await registry(call).listVersionFiles({ projectId, modelName, ...file, pageSize: LISTING_PAGE_SIZE, pageToken }, call.rpc.options);
    files.push(...page.files);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return { files: files.map((entry) => fileInfoJson(entry, entry.path.slice(entry.path.lastIndexOf('/') + 1))) };
}

async function download(call: MlflowCall): Promise<void> {
  const { project, name: modelName, ...file } = versionArtifactPath(`${MODELS}/${call.ctx.params['*']}`);
  if (!file.path) throw invalidParameter(`'${MODELS}/${call.ctx.params['*']}' names a model version's root, not a file`);
  const projectId = await call.projectIdOf(project);
  const chunks = registry(call).downloadVersionFile({ projectId, modelName, ...file }, call.rpc.options);
  await sendStream(call.ctx, 'application/octet-stream', '', '', chunks, (response) => response.chunk);
}

async function refuseChange(call: MlflowCall): Promise<never> {
  // The body is not read: the connection closes after the answer rather than carry it into the next request.
  if (!call.ctx.req.complete) call.ctx.res.setHeader('connection', 'close');
  throw invalidParameter("a model version's files cannot be changed: register a new version instead");
}

/** `GET /model-versions/get-artifact?name=&version=&path=`, with which MLflow's UI shows a version's file. */
export const versionArtifactFileRoute: MlflowRoute = {
  method: 'GET',
  path: '/model-versions/get-artifact',
  streams: true,
  async handle(call) {
    const fields = await call.fields();
    const path = safeArtifactPath(fields.requiredString('path'));
    const { projectId, ...key } = await versionKeyOf(call, fields);
    await sendAttachment(call.ctx, path, registry(call).downloadVersionFile({ projectId, ...key, path }, call.rpc.options), (response) => response.chunk);
  },
};

/** Model versions' files through MLflow's proxied artifact store, read-only. */
export const registryArtifactRoutes: readonly MlflowRoute[] = [
  { method: 'GET', path: `/mlflow-artifacts/artifacts/${MODELS}/*`, handle: download, streams: true },
  { method: 'PUT', path: `/mlflow-artifacts/artifacts/${MODELS}/*`, handle: refuseChange },
  { method: 'DELETE', path: `/mlflow-artifacts/artifacts/${MODELS}/*`, handle: refuseChange },
];

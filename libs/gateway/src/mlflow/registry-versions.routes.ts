import type { ModelVersion } from '@trellis/proto';
import type { MlflowCall, MlflowRoute } from './mlflow-call';
import { invalidParameter } from './mlflow-errors';
import { keyValuesOf } from './mlflow-fields';
import { withPageToken } from './mlflow-json';
import { versionDownloadUri } from './registry-artifacts.routes';
import { deleteIfPresent, maxResultsOf, registry, versionKeyOf } from './registry-call';
import { checkOrderBy, parseRegistryFilter } from './registry-filter';
import { modelVersionJson, NO_STAGE } from './registry-json';
import { nameCheckOf, registryPage } from './registry-paging';

/** MLflow's default and limit of max_results for model-versions/search; pages are at most the registry's 1000. */
const SEARCH_DEFAULT = 1000;
const SEARCH_LIMIT = 200_000;
const REGISTRY_PAGE_LIMIT = 1000;

async function searchVersions(call: MlflowCall): Promise<unknown> {
  const fields = await call.fields();
  const text = fields.string('filter') ?? '';
  const filter = parseRegistryFilter(text, 'model versions');
  checkOrderBy(fields.strings('order_by'), ['name ASC', 'version_number DESC'], 'model versions');
  const max = Math.min(maxResultsOf(fields, SEARCH_DEFAULT, SEARCH_LIMIT), REGISTRY_PAGE_LIMIT);
  if (filter.runIds?.length === 0) return { model_versions: [] };
  const projectIds = [await call.projectId()];
  const { nameLike, tags, runIds = [] } = filter;
  const page = await registryPage(
    async (pageToken, pageSize) => {
      const found = await registry(call).searchVersions({ projectIds, nameLike, runIds, tags, pageSize, pageToken }, call.rpc.options);
      return { items: found.versions, nextPageToken: found.nextPageToken };
    },
    max,
    fields.string('page_token') ?? '',
    nameCheckOf<ModelVersion>(filter, text, (version) => version.modelName),
  );
  return withPageToken({ model_versions: page.items.map(modelVersionJson) }, page.nextPageToken);
}

/** Model versions, their tags, and where their files are. */
export const modelVersionRoutes: readonly MlflowRoute[] = [
  {
    method: 'POST',
    path: '/mlflow/model-versions/create',
    async handle(call) {
      const fields = await call.fields();
      const request = {
        modelName: fields.requiredString('name'),
        // As given: the registry copies the files of a run's artifact location and keeps the caller's words for it.
        source: fields.requiredString('source'),
        runId: fields.string('run_id') ?? '',
        description: fields.string('description') ?? '',
        tags: keyValuesOf(fields.objects('tags'), 'tags'),
        runLink: fields.string('run_link') ?? '',
      };
      // MLflow 3's model_id is not kept: Trellis has no logged models.
      const projectId = await call.projectId();
      const { version } = await registry(call).createVersion({ projectId, ...request }, call.rpc.options);
      return { model_version: version && modelVersionJson(version) };
    },
  },
  {
    method: 'GET',
    path: '/mlflow/model-versions/get',
    async handle(call) {
      const key = await versionKeyOf(call, await call.fields());
      const { version } = await registry(call).getVersion(key, call.rpc.options);
      return { model_version: version && modelVersionJson(version) };
    },
  },
  {
    method: 'PATCH',
    path: '/mlflow/model-versions/update',
    async handle(call) {
      const fields = await call.fields();
      const { projectId, modelName, version: number } = await versionKeyOf(call, fields);
      const request = { version: { projectId, modelName, version: number, description: fields.string('description') ?? '' }, updateMask: { paths: ['description'] } };
      const { version } = await registry(call).updateVersion(request, call.rpc.options);
      return { model_version: version && modelVersionJson(version) };
    },
  },
  {
    method: 'DELETE',
    path: '/mlflow/model-versions/delete',
    async handle(call) {
      const key = await versionKeyOf(call, await call.fields());
      await registry(call).deleteVersion(key, call.rpc.options);
      return {};
    },
  },
  { method: 'GET', path: '/mlflow/model-versions/search', handle: searchVersions },
  {
    method: 'GET',
    path: '/mlflow/model-versions/get-download-uri',
    async handle(call) {
      const key = await versionKeyOf(call, await call.fields());
      const { version } = await registry(call).getVersion(key, call.rpc.options);
      return { artifact_uri: version ? versionDownloadUri(call.projectName, version) : '' };
    },
  },
  {
    // Stages are deprecated in MLflow; Trellis has aliases instead. "None" is where every version already is.
    method: 'POST',
    path: '/mlflow/model-versions/transition-stage',
    async handle(call) {
      const fields = await call.fields();
      const key = await versionKeyOf(call, fields);
      const stage = fields.requiredString('stage');
      if (stage.toLowerCase() !== NO_STAGE.toLowerCase()) {
        throw invalidParameter(
          `stages are not supported: every version stays in stage "None". Point an alias at version ${key.version} of "${key.modelName}" instead (MlflowClient.set_registered_model_alias) and load it as models:/${key.modelName}@<alias>.`,
        );
      }
      const { version } = await registry(call).getVersion(key, call.rpc.options);
      return { model_version: version && modelVersionJson(version) };
    },
  },
  {
    method: 'POST',
    path: '/mlflow/model-versions/set-tag',
    async handle(call) {
      const fields = await call.fields();
      const tag = { key: fields.requiredString('key'), value: fields.string('value') ?? '' };
      const key = await versionKeyOf(call, fields);
      await registry(call).setVersionTag({ ...key, tag }, call.rpc.options);
      return {};
    },
  },
  {
    method: 'DELETE',
    path: '/mlflow/model-versions/delete-tag',
    async handle(call) {
      const fields = await call.fields();
      const tagKey = fields.requiredString('key');
      const key = await versionKeyOf(call, fields);
      return deleteIfPresent(
        () => registry(call).deleteVersionTag({ ...key, key: tagKey }, call.rpc.options),
        () => registry(call).getVersion(key, call.rpc.options),
      );
    },
  },
];

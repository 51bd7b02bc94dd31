import { excerpt } from '@trellis/platform';
import type { RegisteredModel } from '@trellis/proto';
import type { MlflowCall, MlflowRoute } from './mlflow-call';
import { invalidParameter, missingParameter } from './mlflow-errors';
import { keyValuesOf } from './mlflow-fields';
import { withPageToken } from './mlflow-json';
import { deleteIfPresent, isNotFound, latestVersionOf, maxResultsOf, modelKeyOf, modelsJson, registry } from './registry-call';
import { checkOrderBy, parseRegistryFilter } from './registry-filter';
import { modelVersionJson, NO_STAGE } from './registry-json';
import { nameCheckOf, registryPage } from './registry-paging';

/** MLflow's page size and limit for registered-models/search. */
const SEARCH_DEFAULT = 100;
const SEARCH_LIMIT = 1000;
/** MLflow's (deprecated) stage names, which get-latest-versions accepts. */
const STAGES = ['none', 'staging', 'production', 'archived'];

async function modelJson(call: MlflowCall, model: RegisteredModel | undefined): Promise<unknown> {
  return model && (await modelsJson(call, [model]))[0];
}

async function searchModels(call: MlflowCall): Promise<unknown> {
  const fields = await call.fields();
  const text = fields.string('filter') ?? '';
  const filter = parseRegistryFilter(text, 'registered models');
  checkOrderBy(fields.strings('order_by'), ['name ASC'], 'registered models');
  const max = maxResultsOf(fields, SEARCH_DEFAULT, SEARCH_LIMIT);
  const projectIds = [await call.projectId()];
  const { nameLike, tags } = filter;
  const page = await registryPage(
    async (pageToken, pageSize) => {
      const found = await registry(call).searchModels({ projectIds, nameLike, tags, pageSize, pageToken }, call.rpc.options);
      return { items: found.models, nextPageToken: found.nextPageToken };
    },
    max,
    fields.string('page_token') ?? '',
    nameCheckOf<RegisteredModel>(filter, text, (model) => model.name),
  );
  return withPageToken({ registered_models: await modelsJson(call, page.items) }, page.nextPageToken);
}

/** Trellis has no stages: the highest version stands for stage "None", and no version is in any other. */
async function latestVersions(call: MlflowCall): Promise<unknown> {
  const fields = await call.fields();
  const key = await modelKeyOf(call, fields);
  const stages = fields.strings('stages').map((stage) => stage.toLowerCase());
  const unknown = stages.find((stage) => !STAGES.includes(stage));
  if (unknown !== undefined) throw invalidParameter(`Invalid Model Version stage: ${unknown}. Value must be one of None, Staging, Production, Archived.`);
  const { model } = await registry(call).getModel(key, call.rpc.options);
  const latest = model && (stages.length === 0 || stages.includes(NO_STAGE.toLowerCase())) ? await latestVersionOf(call, model) : undefined;
  return { model_versions: latest ? [modelVersionJson(latest)] : [] };
}

/** Registered models, their tags and aliases, in the project the tracking URI names. */
export const registeredModelRoutes: readonly MlflowRoute[] = [
  {
    method: 'POST',
    path: '/mlflow/registered-models/create',
    async handle(call) {
      const fields = await call.fields();
      const { projectId, modelName: name } = await modelKeyOf(call, fields);
      const request = { projectId, name, description: fields.string('description') ?? '', tags: keyValuesOf(fields.objects('tags'), 'tags') };
      const { model } = await registry(call).createModel(request, call.rpc.options);
      return { registered_model: await modelJson(call, model) };
    },
  },
  {
    method: 'GET',
    path: '/mlflow/registered-models/get',
    async handle(call) {
      const key = await modelKeyOf(call, await call.fields());
      const { model } = await registry(call).getModel(key, call.rpc.options);
      return { registered_model: await modelJson(call, model) };
    },
  },
  {
    method: 'POST',
    path: '/mlflow/registered-models/rename',
    async handle(call) {
      const fields = await call.fields();
      const newName = fields.requiredString('new_name');
      const key = await modelKeyOf(call, fields);
      const { model } = await registry(call).renameModel({ ...key, newName }, call.rpc.options);
      return { registered_model: await modelJson(call, model) };
    },
  },
  {
    method: 'PATCH',
    path: '/mlflow/registered-models/update',
    async handle(call) {
      const fields = await call.fields();
      const { projectId, modelName: name } = await modelKeyOf(call, fields);
      const request = { model: { projectId, name, description: fields.string('description') ?? '' }, updateMask: { paths: ['description'] } };
      const { model } = await registry(call).updateModel(request, call.rpc.options);
      return { registered_model: await modelJson(call, model) };
    },
  },
  {
    method: 'DELETE',
    path: '/mlflow/registered-models/delete',
    async handle(call) {
      const key = await modelKeyOf(call, await call.fields());
      await registry(call).deleteModel(key, call.rpc.options);
      return {};
    },
  },
  { method: 'GET', path: '/mlflow/registered-models/search', handle: searchModels },
  // The client tries POST, then GET on ENDPOINT_NOT_FOUND.
  { method: 'POST', path: '/mlflow/registered-models/get-latest-versions', handle: latestVersions },
  { method: 'GET', path: '/mlflow/registered-models/get-latest-versions', handle: latestVersions },
  {
    method: 'POST',
    path: '/mlflow/registered-models/set-tag',
    async handle(call) {
      const fields = await call.fields();
      const tag = { key: fields.requiredString('key'), value: fields.string('value') ?? '' };
      const key = await modelKeyOf(call, fields);
      await registry(call).setModelTag({ ...key, tag }, call.rpc.options);
      return {};
    },
  },
  {
    method: 'DELETE',
    path: '/mlflow/registered-models/delete-tag',
    async handle(call) {
      const fields = await call.fields();
      const tagKey = fields.requiredString('key');
      const key = await modelKeyOf(call, fields);
      return deleteIfPresent(
        () => registry(call).deleteModelTag({ ...key, key: tagKey }, call.rpc.options),
        () => registry(call).getModel(key, call.rpc.options),
      );
    },
  },
  {
    // `approval_id` is Trellis' own: a protected alias moves only with a governance approval (docs/mlflow.md).
    method: 'POST',
    path: '/mlflow/registered-models/alias',
    async handle(call) {
      const fields = await call.fields();
      const alias = fields.requiredString('alias');
      const version = fields.int64('version');
      if (version === undefined) throw missingParameter('version');
      const approvalId = fields.string('approval_id') ?? '';
      const key = await modelKeyOf(call, fields);
      await registry(call).setAlias({ ...key, alias, version, approvalId }, call.rpc.options);
      return {};
    },
  },
  {
    method: 'DELETE',
    path: '/mlflow/registered-models/alias',
    async handle(call) {
      const fields = await call.fields();
      const alias = fields.requiredString('alias');
      const approvalId = fields.string('approval_id') ?? '';
      const key = await modelKeyOf(call, fields);
      return deleteIfPresent(
        () => registry(call).deleteAlias({ ...key, alias, approvalId }, call.rpc.options),
        () => registry(call).getModel(key, call.rpc.options),
      );
    },
  },
  {
    method: 'GET',
    path: '/mlflow/registered-models/alias',
    async handle(call) {
      const fields = await call.fields();
      const alias = fields.requiredString('alias');
      const key = await modelKeyOf(call, fields);
      try {
        const { version } = await registry(call).getVersionByAlias({ ...key, alias }, call.rpc.options);
        return { model_version: version && modelVersionJson(version) };
      } catch (error) {
        // MLflow answers a missing alias, of a missing model too, as a bad parameter.
        if (isNotFound(error)) throw invalidParameter(`Registered model alias ${excerpt(alias)} not found.`);
        throw error;
      }
    },
  },
];

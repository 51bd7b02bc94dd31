import { ExperimentServiceDesc } from '@trellis/proto';
import type { MlflowCall, MlflowRoute } from './mlflow-call';
import { keyValuesOf } from './mlflow-fields';
import { experimentJson, viewTypeOf, withPageToken } from './mlflow-json';

/** Tracking pages experiments by at most this many; a larger max_results gets a next page token. */
const MAX_EXPERIMENTS_PAGE = 1000;

const experiments = (call: MlflowCall) => call.rpc.of(ExperimentServiceDesc);

async function searchExperiments(call: MlflowCall): Promise<unknown> {
  const fields = await call.fields();
  const page = await experiments(call).searchExperiments(
    {
      projectIds: [await call.projectId()],
      filter: fields.string('filter') ?? '',
      orderBy: fields.strings('order_by'),
      viewType: viewTypeOf(fields.value('view_type'), 'view_type'),
      pageSize: Math.min(fields.count('max_results') ?? MAX_EXPERIMENTS_PAGE, MAX_EXPERIMENTS_PAGE),
      pageToken: fields.string('page_token') ?? '',
    },
    call.rpc.options,
  );
  return withPageToken({ experiments: page.experiments.map(experimentJson) }, page.nextPageToken);
}

/**
 * Experiments. Names resolve, and new experiments go, in the project the tracking URI names;
 * ids are tracking's, global across projects, and "0" is the project's Default experiment.
 */
export const experimentRoutes: readonly MlflowRoute[] = [
  {
    method: 'POST',
    path: '/mlflow/experiments/create',
    async handle(call) {
      const fields = await call.fields();
      const name = fields.requiredString('name');
      const tags = keyValuesOf(fields.objects('tags'), 'tags');
      // artifact_location is checked as MLflow checks it, but not taken: tracking decides where artifacts live (docs/mlflow.md).
      fields.string('artifact_location');
      const { experiment } = await experiments(call).createExperiment({ projectId: await call.projectId(), name, tags }, call.rpc.options);
      return { experiment_id: experiment?.id ?? '' };
    },
  },
  {
    method: 'GET',
    path: '/mlflow/experiments/get',
    async handle(call) {
      const fields = await call.fields();
      const experimentId = await call.experimentId(fields.requiredString('experiment_id'));
      const { experiment } = await experiments(call).getExperiment({ experimentId }, call.rpc.options);
      return { experiment: experiment && experimentJson(experiment) };
    },
  },
  {
    method: 'GET',
    path: '/mlflow/experiments/get-by-name',
    async handle(call) {
      const fields = await call.fields();
      const name = fields.requiredString('experiment_name');
      const { experiment } = await experiments(call).getExperimentByName({ projectId: await call.projectId(), name }, call.rpc.options);
      return { experiment: experiment && experimentJson(experiment) };
    },
  },
  { method: 'POST', path: '/mlflow/experiments/search', handle: searchExperiments },
  { method: 'GET', path: '/mlflow/experiments/search', handle: searchExperiments },
  {
    method: 'POST',
    path: '/mlflow/experiments/update',
    async handle(call) {
      const fields = await call.fields();
      const experimentId = await call.experimentId(fields.requiredString('experiment_id'));
      const name = fields.requiredString('new_name');
      await experiments(call).updateExperiment({ experimentId, name, updateMask: { paths: ['name'] } }, call.rpc.options);
      return {};
    },
  },
  {
    method: 'POST',
    path: '/mlflow/experiments/delete',
    async handle(call) {
      const experimentId = await call.experimentId((await call.fields()).requiredString('experiment_id'));
      await experiments(call).deleteExperiment({ experimentId }, call.rpc.options);
      return {};
    },
  },
  {
    method: 'POST',
    path: '/mlflow/experiments/restore',
    async handle(call) {
      const experimentId = await call.experimentId((await call.fields()).requiredString('experiment_id'));
      await experiments(call).restoreExperiment({ experimentId }, call.rpc.options);
      return {};
    },
  },
  {
    method: 'POST',
    path: '/mlflow/experiments/set-experiment-tag',
    async handle(call) {
      const fields = await call.fields();
      const experimentId = await call.experimentId(fields.requiredString('experiment_id'));
      const tag = { key: fields.requiredString('key'), value: fields.string('value') ?? '' };
      await experiments(call).setExperimentTag({ experimentId, tag }, call.rpc.options);
      return {};
    },
  },
  {
    method: 'POST',
    path: '/mlflow/experiments/delete-experiment-tag',
    async handle(call) {
      const fields = await call.fields();
      const experimentId = await call.experimentId(fields.requiredString('experiment_id'));
      await experiments(call).deleteExperimentTag({ experimentId, key: fields.requiredString('key') }, call.rpc.options);
      return {};
    },
  },
];

import { status } from '@grpc/grpc-js';
import { LifecycleStage, RunServiceDesc } from '@trellis/proto';
import { GatewayError } from '../errors/gateway-error';
import { metricOf, logBatchRequest } from './metric-batch.encoding';
import { DEFAULT_EXPERIMENT_ID, type MlflowCall, type MlflowRoute } from './mlflow-call';
import { missingParameter } from './mlflow-errors';
import { keyValuesOf, readArray, readObject, readString, type MlflowFields } from './mlflow-fields';
import { runInfoJson, runJson, runStatusOf, timestampOfMillis, viewTypeOf, withPageToken } from './mlflow-json';

/** MLflow's log-batch body limit (`MAX_BATCH_LOG_REQUEST_SIZE`, 1 MB). Counts and sizes are tracking's to check. */
const LOG_BATCH_MAX_BODY_BYTES = 1_000_000;
/** Dataset schemas (1 MiB) and profiles (16 MiB) make log-inputs bodies large. */
const LOG_INPUTS_MAX_BODY_BYTES = 32 * 1024 * 1024;
/** The most runs one search page may ask for (MLflow's handler refuses more). */
const MAX_SEARCH_RESULTS = 50_000;
/** MLflow's default max_results for runs/search (tracking's own default page is smaller). */
const DEFAULT_SEARCH_RESULTS = 1000;

const runs = (call: MlflowCall) => call.rpc.of(RunServiceDesc);

/**
 * What MLflow's update-run answers when its request changes nothing: the run's info, or, as for
 * any update, FAILED_PRECONDITION when the run is deleted (an update must name a field to change).
 */
async function unchangedRunInfo(call: MlflowCall, runId: string): Promise<unknown> {
  const info = (await runs(call).getRun({ runId }, call.rpc.options)).run?.info;
  if (info?.lifecycleStage === LifecycleStage.DELETED) {
    throw new GatewayError(status.FAILED_PRECONDITION, `The run ${runId} must be in the 'active' state. Current state is deleted.`);
  }
  return info && runInfoJson(info);
}

async function experimentIdOf(call: MlflowCall, fields: MlflowFields): Promise<string> {
  return call.experimentId(fields.string('experiment_id') || DEFAULT_EXPERIMENT_ID);
}

/** Runs and what they log. */
export const runRoutes: readonly MlflowRoute[] = [
  {
    method: 'POST',
    path: '/mlflow/runs/create',
    async handle(call) {
      const fields = await call.fields();
      const request = {
        runName: fields.string('run_name') ?? '',
        startTime: timestampOfMillis(fields.int64('start_time')),
        tags: keyValuesOf(fields.objects('tags'), 'tags'),
        // As MLflow stores it: what the client sends, "" when it sends none (the caller is in the audit log).
        userId: fields.string('user_id') ?? '',
      };
      const { run } = await runs(call).createRun({ experimentId: await experimentIdOf(call, fields), ...request }, call.rpc.options);
      return { run: run && runJson(run) };
    },
  },
  {
    method: 'POST',
    path: '/mlflow/runs/update',
    async handle(call) {
      const fields = await call.fields();
      const runId = fields.runId();
      // MLflow leaves a field as it is when its request omits it, or sends 0 or "" for it.
      const status = runStatusOf(fields.value('status'), 'status');
      const endTime = timestampOfMillis(fields.int64('end_time'));
      const runName = fields.string('run_name') ?? '';
      const paths = [...(status ? ['status'] : []), ...(endTime ? ['end_time'] : []), ...(runName ? ['run_name'] : [])];
      if (paths.length === 0) return { run_info: await unchangedRunInfo(call, runId) };
      const { runInfo } = await runs(call).updateRun({ runId, status, endTime, runName, updateMask: { paths } }, call.rpc.options);
      return { run_info: runInfo && runInfoJson(runInfo) };
    },
  },
  {
    method: 'POST',
    path: '/mlflow/runs/delete',
    async handle(call) {
      await runs(call).deleteRun({ runId: (await call.fields()).runId() }, call.rpc.options);
      return {};
    },
  },
  {
    method: 'POST',
    path: '/mlflow/runs/restore',
    async handle(call) {
      await runs(call).restoreRun({ runId: (await call.fields()).runId() }, call.rpc.options);
      return {};
    },
  },
  {
    method: 'GET',
    path: '/mlflow/runs/get',
    async handle(call) {
      const { run } = await runs(call).getRun({ runId: (await call.fields()).runId() }, call.rpc.options);
      return { run: run && runJson(run) };
    },
  },
  {
    method: 'POST',
    path: '/mlflow/runs/search',
    async handle(call) {
      const fields = await call.fields();
      const request = {
        filter: fields.string('filter') ?? '',
        orderBy: fields.strings('order_by'),
        viewType: viewTypeOf(fields.value('run_view_type'), 'run_view_type'),
        pageSize: fields.count('max_results', MAX_SEARCH_RESULTS) || DEFAULT_SEARCH_RESULTS,
        pageToken: fields.string('page_token') ?? '',
      };
      const experimentIds = await Promise.all(fields.strings('experiment_ids').map((id) => call.experimentId(id)));
      const page = await runs(call).searchRuns({ experimentIds, ...request }, call.rpc.options);
      return withPageToken({ runs: page.runs.map(runJson) }, page.nextPageToken);
    },
  },
  {
    method: 'POST',
    path: '/mlflow/runs/log-metric',
    async handle(call) {
      const fields = await call.fields();
      const runId = fields.runId();
      const metric = metricOf({ key: fields.value('key'), value: fields.value('value'), timestamp: fields.value('timestamp'), step: fields.value('step') }, '');
      await runs(call).logMetric({ runId, metric }, call.rpc.options);
      return {};
    },
  },
  {
    method: 'POST',
    path: '/mlflow/runs/log-parameter',
    async handle(call) {
      const fields = await call.fields();
      const runId = fields.runId();
      const param = { key: fields.requiredString('key'), value: fields.requiredString('value') };
      await runs(call).logParam({ runId, param }, call.rpc.options);
      return {};
    },
  },
  {
    method: 'POST',
    path: '/mlflow/runs/set-tag',
    async handle(call) {
      const fields = await call.fields();
      const runId = fields.runId();
      const tag = { key: fields.requiredString('key'), value: fields.string('value') ?? '' };
      await runs(call).setTag({ runId, tag }, call.rpc.options);
      return {};
    },
  },
  {
    method: 'POST',
    path: '/mlflow/runs/delete-tag',
    async handle(call) {
      const fields = await call.fields();
      await runs(call).deleteTag({ runId: fields.runId(), key: fields.requiredString('key') }, call.rpc.options);
      return {};
    },
  },
  {
    // The hot path: one JSON parse, the metrics written from it straight to protobuf's wire format.
    method: 'POST',
    path: '/mlflow/runs/log-batch',
    maxBodyBytes: LOG_BATCH_MAX_BODY_BYTES,
    async handle(call) {
      const fields = await call.fields();
      const runId = fields.runId();
      const params = keyValuesOf(fields.objects('params'), 'params', true);
      const tags = keyValuesOf(fields.objects('tags'), 'tags');
      const request = logBatchRequest(runId, readArray(fields.value('metrics'), 'metrics'), params, tags);
      await runs(call).logBatch(request, call.rpc.options);
      return {};
    },
  },
  {
    method: 'POST',
    path: '/mlflow/runs/log-inputs',
    maxBodyBytes: LOG_INPUTS_MAX_BODY_BYTES,
    async handle(call) {
      const fields = await call.fields();
      const runId = fields.runId();
      // MLflow 2 requires datasets; MLflow 3 also accepts models alone.
      if ((fields.value('datasets') ?? fields.value('models') ?? null) === null) throw missingParameter('datasets');
      const datasets = fields.objects('datasets').map((input, index) => {
        const path = `datasets[${index}]`;
        const dataset = readObject(input.dataset, `${path}.dataset`);
        if (!dataset) throw missingParameter(`${path}.dataset`);
        const text = (name: string) => readString(dataset[name], `${path}.dataset.${name}`) ?? '';
        return {
          tags: keyValuesOf(readArray(input.tags, `${path}.tags`), `${path}.tags`),
          dataset: {
            name: text('name'),
            digest: text('digest'),
            sourceType: text('source_type'),
            source: text('source'),
            schema: text('schema'),
            profile: text('profile'),
          },
        };
      });
      // `models` (MLflow 3 logged-model inputs) is not kept: Trellis has no logged models yet.
      await runs(call).logInputs({ runId, datasets }, call.rpc.options);
      return {};
    },
  },
];

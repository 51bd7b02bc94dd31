import { create } from '@bufbuild/protobuf';
import { TimestampSchema, timestampMs, type Timestamp } from '@bufbuild/protobuf/wkt';
import { LifecycleStage, RunStatus, ViewType, type DatasetInput, type Experiment, type FileInfo, type Metric, type Run, type RunInfo } from '@trellis/proto';
import { invalidParameter } from './mlflow-errors';

// MLflow's JSON as its server writes it (`message_to_json`): snake_case names, int64 as numbers,
// enums by name, lifecycle stages as "active"/"deleted", and doubles JSON has no number for as
// the strings "NaN", "Infinity" and "-Infinity". Instants are epoch milliseconds, where tracking's
// contracts carry Timestamps.

type Json = Record<string, unknown>;

/** MLflow's RunStatus numbers are Trellis' (RUNNING = 1 ... KILLED = 5); the names drop the prefix. */
const RUN_STATUS_NAMES: Readonly<Record<number, string>> = {
  [RunStatus.RUNNING]: 'RUNNING',
  [RunStatus.SCHEDULED]: 'SCHEDULED',
  [RunStatus.FINISHED]: 'FINISHED',
  [RunStatus.FAILED]: 'FAILED',
  [RunStatus.KILLED]: 'KILLED',
};

/** MLflow's ViewType numbers are Trellis' too (ACTIVE_ONLY = 1, DELETED_ONLY = 2, ALL = 3). */
const VIEW_TYPE_NAMES: Readonly<Record<number, string>> = {
  [ViewType.ACTIVE_ONLY]: 'ACTIVE_ONLY',
  [ViewType.DELETED_ONLY]: 'DELETED_ONLY',
  [ViewType.ALL]: 'ALL',
};

/** An enum field given by name or number (the protobuf JSON mapping allows both). */
function enumOf(names: Readonly<Record<number, string>>, value: unknown, path: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  for (const [number, name] of Object.entries(names)) {
    if (value === name || value === Number(number) || value === number) return Number(number);
  }
  throw invalidParameter(`Invalid value ${JSON.stringify(value)} for parameter '${path}' supplied: expected one of ${Object.values(names).join(', ')}.`);
}

export function runStatusOf(value: unknown, path: string): RunStatus {
  return enumOf(RUN_STATUS_NAMES, value, path) ?? RunStatus.UNSPECIFIED;
}

export function viewTypeOf(value: unknown, path: string): ViewType {
  return enumOf(VIEW_TYPE_NAMES, value, path) ?? ViewType.UNSPECIFIED;
}

function lifecycleStageJson(stage: LifecycleStage): string {
  return stage === LifecycleStage.DELETED ? 'deleted' : 'active';
}

/** A double as the protobuf JSON mapping writes it. */
export function doubleJson(value: number): number | string {
  if (Number.isFinite(value)) return value;
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? 'Infinity' : '-Infinity';
}

/** A Timestamp as MLflow's epoch milliseconds; 0 for none. */
export function epochMillisJson(time: Timestamp | undefined): number {
  return time ? timestampMs(time) : 0;
}

/**
 * MLflow's epoch milliseconds (an int64 field) as a Timestamp; undefined for none or 0, which
 * MLflow's requests send for "not given". Whole milliseconds, so floor division keeps nanos in range.
 */
export function timestampOfMillis(ms: bigint | undefined): Timestamp | undefined {
  if (ms === undefined || ms === 0n) return undefined;
  const seconds = ms >= 0n ? ms / 1000n : -((-ms + 999n) / 1000n);
  return create(TimestampSchema, { seconds, nanos: Number(ms - seconds * 1000n) * 1_000_000 });
}

export function metricJson(metric: Metric): Json {
  return { key: metric.key, value: doubleJson(metric.value), timestamp: Number(metric.timestampMs), step: Number(metric.step) };
}

/** Tags and params as MLflow writes them, `[{"key": ..., "value": ...}]`. */
export const keyValues = (entries: ReadonlyArray<{ key: string; value: string }>) => entries.map(({ key, value }) => ({ key, value }));

export function experimentJson(experiment: Experiment): Json {
  return {
    experiment_id: experiment.id,
    name: experiment.name,
    artifact_location: experiment.artifactLocation,
    lifecycle_stage: lifecycleStageJson(experiment.lifecycleStage),
    last_update_time: epochMillisJson(experiment.updateTime),
    creation_time: epochMillisJson(experiment.createTime),
    tags: keyValues(experiment.tags),
  };
}

/** RunInfo, with `run_uuid` (deprecated, still read by older clients) and no `end_time` while the run has not ended. */
export function runInfoJson(info: RunInfo): Json {
  const json: Json = {
    run_id: info.id,
    run_uuid: info.id,
    run_name: info.runName,
    experiment_id: info.experimentId,
    user_id: info.userId,
    status: RUN_STATUS_NAMES[info.status] ?? 'RUNNING',
    start_time: epochMillisJson(info.startTime),
    artifact_uri: info.artifactUri,
    lifecycle_stage: lifecycleStageJson(info.lifecycleStage),
  };
  const endTime = epochMillisJson(info.endTime);
  if (endTime > 0) json.end_time = endTime;
  return json;
}

function datasetInputJson(input: DatasetInput): Json {
  const dataset = input.dataset;
  const json: Json = { name: dataset?.name ?? '', digest: dataset?.digest ?? '', source_type: dataset?.sourceType ?? '', source: dataset?.source ?? '' };
  if (dataset?.schema) json.schema = dataset.schema;
  if (dataset?.profile) json.profile = dataset.profile;
  return { tags: keyValues(input.tags), dataset: json };
}

export function runJson(run: Run): Json {
  return {
    info: run.info ? runInfoJson(run.info) : {},
    data: {
      metrics: (run.data?.metrics ?? []).map(metricJson),
      params: keyValues(run.data?.params ?? []),
      tags: keyValues(run.data?.tags ?? []),
    },
    inputs: { dataset_inputs: (run.inputs?.datasetInputs ?? []).map(datasetInputJson) },
  };
}

/** A FileInfo (of a run, or a registry VersionFile); `path` replaces the stored path (the proxied listing names entries by base name). Directories carry no size. */
export function fileInfoJson(file: Pick<FileInfo, 'path' | 'isDir' | 'sizeBytes'>, path = file.path): Json {
  return file.isDir ? { path, is_dir: true } : { path, is_dir: false, file_size: Number(file.sizeBytes) };
}

/** `next_page_token` only when there is a next page, as MLflow omits it on the last one. */
export function withPageToken(json: Json, nextPageToken: string): Json {
  if (nextPageToken) json.next_page_token = nextPageToken;
  return json;
}

import { timestampMs, type Timestamp } from '@bufbuild/protobuf/wkt';
import { ModelVersionStatus, type ModelVersion, type RegisteredModel } from '@trellis/proto';
import { keyValues } from './mlflow-json';

// MLflow's registry JSON (model_registry.proto): versions are strings, times int64 numbers.

/** A registry time as MLflow writes it: milliseconds since the epoch. */
function epochMillisOf(time: Timestamp | undefined): number {
  return time ? timestampMs(time) : 0;
}

type Json = Record<string, unknown>;

/** Trellis has aliases, not stages: every version is in MLflow's stage "None". */
export const NO_STAGE = 'None';

const VERSION_STATUS_NAMES: Readonly<Record<number, string>> = {
  [ModelVersionStatus.PENDING]: 'PENDING_REGISTRATION',
  [ModelVersionStatus.READY]: 'READY',
  [ModelVersionStatus.FAILED]: 'FAILED_REGISTRATION',
};

/** A ModelVersion. */
export function modelVersionJson(version: ModelVersion): Json {
  return {
    name: version.modelName,
    version: String(version.version),
    creation_timestamp: epochMillisOf(version.createTime),
    last_updated_timestamp: epochMillisOf(version.updateTime),
    user_id: version.creatorId,
    current_stage: NO_STAGE,
    description: version.description,
    source: version.source,
    run_id: version.runId,
    status: VERSION_STATUS_NAMES[version.status] ?? 'PENDING_REGISTRATION',
    status_message: version.statusMessage,
    tags: keyValues(version.tags),
    run_link: version.runLink,
    aliases: [...version.aliases],
  };
}

/**
 * A RegisteredModel. MLflow lists the latest version of each stage in `latest_versions`; with
 * every version in stage "None", that is the highest version, when there is one.
 */
export function registeredModelJson(model: RegisteredModel, latest: ModelVersion | undefined): Json {
  return {
    name: model.name,
    creation_timestamp: epochMillisOf(model.createTime),
    last_updated_timestamp: epochMillisOf(model.updateTime),
    user_id: model.creatorId,
    description: model.description,
    latest_versions: latest ? [modelVersionJson(latest)] : [],
    tags: keyValues(model.tags),
    aliases: model.aliases.map(({ alias, version }) => ({ alias, version: String(version) })),
  };
}

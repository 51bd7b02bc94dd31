import { status } from '@grpc/grpc-js';
import { RegistryServiceDesc, type ModelVersion, type RegisteredModel } from '@trellis/proto';
import type { MlflowCall } from './mlflow-call';
import { invalidValue, missingParameter } from './mlflow-errors';
import type { MlflowFields } from './mlflow-fields';
import { likeLiteral } from './registry-filter';
import { registeredModelJson } from './registry-json';
import { mapConcurrently } from './registry-paging';

/** How many models of a page have their latest version read at once. */
const LATEST_VERSION_READS = 16;

/** The registry's client for this request's caller. */
export const registry = (call: MlflowCall) => call.rpc.of(RegistryServiceDesc);

/** Whether an upstream call failed with NOT_FOUND. */
export function isNotFound(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === status.NOT_FOUND;
}

/**
 * A delete as MLflow answers it: done when there is nothing to delete. A NOT_FOUND from `remove`
 * is success once `readHolder` (a read of the model or version the tag or alias belongs to) finds
 * it, and that read's own NOT_FOUND when it does not.
 */
export async function deleteIfPresent(remove: () => Promise<unknown>, readHolder: () => Promise<unknown>): Promise<Record<string, never>> {
  try {
    await remove();
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await readHolder();
  }
  return {};
}

/** The model a request names (`name`), in the project the tracking URI names. */
export async function modelKeyOf(call: MlflowCall, fields: MlflowFields): Promise<{ projectId: string; modelName: string }> {
  const modelName = fields.requiredString('name');
  return { projectId: await call.projectId(), modelName };
}

/** The version a request names (`name`, `version`: a string in MLflow's JSON, a number accepted too). */
export async function versionKeyOf(call: MlflowCall, fields: MlflowFields): Promise<{ projectId: string; modelName: string; version: bigint }> {
  const modelName = fields.requiredString('name');
  const version = fields.int64('version');
  if (version === undefined) throw missingParameter('version');
  return { projectId: await call.projectId(), modelName, version };
}

/** `max_results`: `byDefault` when absent, a 400 outside 1 to `limit`. */
export function maxResultsOf(fields: MlflowFields, byDefault: number, limit: number): number {
  const max = fields.count('max_results', limit) ?? byDefault;
  if (max < 1) throw invalidValue(fields.value('max_results'), 'max_results');
  return max;
}

/** The highest version of the model that still exists (`latest_versions`); none before the first. */
export async function latestVersionOf(call: MlflowCall, model: RegisteredModel): Promise<ModelVersion | undefined> {
  if (model.latestVersion === 0n) return undefined;
  // The registry's number is the highest ever given; that version may be deleted. Its search comes newest first.
  const { versions } = await registry(call).searchVersions({ projectIds: [model.projectId], nameLike: likeLiteral(model.name), pageSize: 1 }, call.rpc.options);
  return versions[0];
}

/** Models as MLflow's JSON, each with its latest version. */
export function modelsJson(call: MlflowCall, models: readonly RegisteredModel[]): Promise<Array<Record<string, unknown>>> {
  return mapConcurrently(models, LATEST_VERSION_READS, async (model) => registeredModelJson(model, await latestVersionOf(call, model)));
}

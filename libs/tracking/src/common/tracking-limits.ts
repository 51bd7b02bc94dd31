import { InvalidArgumentError } from '@trellis/platform';

/** MLflow's server limits (mlflow/utils/validation.py), which Trellis enforces as they are. */
export const TRACKING_LIMITS = Object.freeze({
  batchMetrics: 1000,
  batchParams: 100,
  batchTags: 100,
  batchEntries: 1000,
  /** A log-batch request, in bytes. */
  batchBytes: 1_000_000,
  keyLength: 250,
  paramValueLength: 6000,
  runTagValueLength: 8000,
  experimentTagValueLength: 5000,
  experimentNameLength: 500,
  runNameLength: 250,
  datasetNameLength: 500,
  datasetDigestLength: 36,
  datasetSourceLength: 65_535,
  datasetSchemaLength: 1_048_575,
  datasetProfileLength: 16_777_215,
  inputTagKeyLength: 255,
  inputTagValueLength: 500,
});

const KEY_PATTERN = /^[/\w.\- ]*$/;

/**
 * Checks a metric, param or tag key: 1 to 250 characters of letters, digits, `_ - . /` and space,
 * and not a path that would normalise to another one (`a/../b`, `/a`, `./a`).
 */
export function checkKey(key: string, field: string): void {
  if (key.length === 0) throw new InvalidArgumentError('must not be empty', field);
  if (key.length > TRACKING_LIMITS.keyLength) {
    throw new InvalidArgumentError(`is ${key.length} characters; the limit is ${TRACKING_LIMITS.keyLength}`, field);
  }
  if (!KEY_PATTERN.test(key)) {
    throw new InvalidArgumentError(`"${key}" may only contain letters, digits, underscores, dashes, periods, slashes and spaces`, field);
  }
  const segments = key.split('/');
  if (key.startsWith('/') || segments.some((segment) => segment === '..' || segment === '.')) {
    throw new InvalidArgumentError(`"${key}" must be a relative path without . or .. segments`, field);
  }
}

const RUN_ID_PATTERN = /^[a-zA-Z0-9][\w-]{0,255}$/;
const EXPERIMENT_ID_PATTERN = /^(0|[1-9]\d{0,9})$/;

/** Checks a run id's shape before it reaches a query. */
export function checkRunId(runId: string, field = 'run_id'): void {
  if (!RUN_ID_PATTERN.test(runId)) throw new InvalidArgumentError(`"${runId}" is not a run id`, field);
}

/** An experiment id as stored: decimal digits that fit a 32-bit integer. */
export function experimentIdOf(id: string, field = 'experiment_id'): number {
  const parsed = EXPERIMENT_ID_PATTERN.test(id) ? Number(id) : NaN;
  if (!Number.isSafeInteger(parsed) || parsed > 2_147_483_647) throw new InvalidArgumentError(`"${id}" is not an experiment id`, field);
  return parsed;
}

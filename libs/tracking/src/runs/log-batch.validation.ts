import { checkLength, checkNoNul, InvalidArgumentError } from '@trellis/platform';
import type { MetricPoint } from '../metrics/metric.repository';
import { checkKey, TRACKING_LIMITS } from '../common/tracking-limits';

/** A key and a value (a param or a tag). */
export interface KeyValue {
  key: string;
  value: string;
}

/** What one LogBatch (or a single-item log call) writes. */
export interface LogBatch {
  metrics: MetricPoint[];
  params: KeyValue[];
  tags: KeyValue[];
}

const POINT_OVERHEAD_BYTES = 32;

/**
 * Checks a batch against MLflow's limits before anything is written, so a rejected batch stores
 * nothing: counts, total size, keys, value lengths and NULs, timestamps, and duplicate param keys.
 * Each error names the limit and the entry (`metrics[3].key`).
 */
export function checkLogBatch(batch: LogBatch): void {
  const { metrics, params, tags } = batch;
  const over = (what: string, count: number, limit: number) =>
    new InvalidArgumentError(`holds ${count} ${what}; a batch may hold at most ${limit}`, what);
  if (metrics.length > TRACKING_LIMITS.batchMetrics) throw over('metrics', metrics.length, TRACKING_LIMITS.batchMetrics);
  if (params.length > TRACKING_LIMITS.batchParams) throw over('params', params.length, TRACKING_LIMITS.batchParams);
  if (tags.length > TRACKING_LIMITS.batchTags) throw over('tags', tags.length, TRACKING_LIMITS.batchTags);
  const entries = metrics.length + params.length + tags.length;
  if (entries > TRACKING_LIMITS.batchEntries) {
    throw new InvalidArgumentError(`holds ${entries} metrics, params and tags together; a batch may hold at most ${TRACKING_LIMITS.batchEntries}`, 'batch');
  }

  let bytes = 0;
  metrics.forEach((metric, index) => {
    checkKey(metric.key, `metrics[${index}].key`);
    if (!Number.isSafeInteger(metric.timestampMs) || metric.timestampMs < 0) {
      throw new InvalidArgumentError(`must be a non-negative number of milliseconds, not ${metric.timestampMs}`, `metrics[${index}].timestamp`);
    }
    if (!Number.isSafeInteger(metric.step)) {
      throw new InvalidArgumentError(`must be an integer between -2^53 and 2^53, not ${metric.step}`, `metrics[${index}].step`);
    }
    bytes += metric.key.length + POINT_OVERHEAD_BYTES;
  });
  const seen = new Map<string, string>();
  params.forEach((param, index) => {
    checkKey(param.key, `params[${index}].key`);
    checkLength(param.value, TRACKING_LIMITS.paramValueLength, `params[${index}].value`);
    checkNoNul(param.value, `params[${index}].value`);
    const earlier = seen.get(param.key);
    if (earlier !== undefined) {
      throw new InvalidArgumentError(`param "${param.key}" appears twice in the batch; log each param once`, `params[${index}].key`);
    }
    seen.set(param.key, param.value);
    bytes += param.key.length + param.value.length;
  });
  tags.forEach((tag, index) => {
    checkKey(tag.key, `tags[${index}].key`);
    checkLength(tag.value, TRACKING_LIMITS.runTagValueLength, `tags[${index}].value`);
    checkNoNul(tag.value, `tags[${index}].value`);
    bytes += tag.key.length + tag.value.length;
  });
  if (bytes > TRACKING_LIMITS.batchBytes) {
    throw new InvalidArgumentError(`is about ${bytes} bytes; a batch may be at most ${TRACKING_LIMITS.batchBytes} bytes (1 MB)`, 'batch');
  }
}

import type { RunJson } from '@trellis/proto/trellis/tracking/v1/resources_pb';

/** One param or metric across the compared runs: its value in each (undefined where a run lacks it). */
export interface ComparedRow {
  /** params.<key> or metrics.<key>, as MLflow's filters name them. */
  key: string;
  values: Array<string | undefined>;
  /** Whether the runs disagree, a run without it included. */
  differs: boolean;
}

/**
 * The params, then the metrics (latest values), of several runs side by side, each group by key.
 * A metric's value is printed as JSON sends it, so 0.1 stays 0.1 and NaN stays NaN.
 */
export function compareRuns(runs: readonly RunJson[]): ComparedRow[] {
  const params = runs.map((run) => new Map((run.data?.params ?? []).map((param) => [param.key ?? '', param.value ?? ''])));
  const metrics = runs.map((run) => new Map((run.data?.metrics ?? []).map((metric) => [metric.key ?? '', String(metric.value ?? 0)])));
  return [...rowsOf('params', params), ...rowsOf('metrics', metrics)];
}

function rowsOf(prefix: string, perRun: ReadonlyArray<Map<string, string>>): ComparedRow[] {
  const keys = [...new Set(perRun.flatMap((values) => [...values.keys()]))].sort();
  return keys.map((key) => {
    const values = perRun.map((run) => run.get(key));
    return { key: `${prefix}.${key}`, values, differs: new Set(values).size > 1 };
  });
}

import type { RunJson } from '@trellis/proto/trellis/tracking/v1/resources_pb';

/** One row of the comparison: a param or a metric, each run's value (undefined where it has none). */
export interface DifferenceRow {
  kind: 'param' | 'metric';
  key: string;
  values: Array<string | undefined>;
  /** Whether the runs disagree (a run without the key disagrees with one that has it). */
  differs: boolean;
}

/** The params and latest metrics of the runs side by side, params first, each kind by key. */
export function differencesOf(runs: readonly RunJson[]): DifferenceRow[] {
  const rows = (kind: DifferenceRow['kind'], entries: (run: RunJson) => Array<{ key?: string; value?: unknown }> | undefined) => {
    const keys = [...new Set(runs.flatMap((run) => (entries(run) ?? []).map((entry) => entry.key ?? '')))].sort();
    return keys.map((key) => {
      const values = runs.map((run) => {
        const value = entries(run)?.find((entry) => entry.key === key)?.value;
        return value === undefined ? undefined : String(value);
      });
      return { kind, key, values, differs: new Set(values).size > 1 };
    });
  };
  return [...rows('param', (run) => run.data?.params), ...rows('metric', (run) => run.data?.metrics)];
}

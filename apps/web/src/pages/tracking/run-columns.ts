import type { RunJson } from '@trellis/proto/trellis/tracking/v1/resources_pb';

/** A column of the runs table the user may add: a param's or a metric's latest value. */
export interface ChosenColumn {
  entity: 'metrics' | 'params';
  key: string;
}

/** The column's id, also its name in the URL and in the search's order_by: `metrics.loss`. */
export function columnId(column: ChosenColumn): string {
  return `${column.entity}.${column.key}`;
}

/** A column id read back; undefined for anything that is not `metrics.<key>` or `params.<key>`. */
export function parseColumnId(id: string): ChosenColumn | undefined {
  const dot = id.indexOf('.');
  const entity = id.slice(0, dot);
  const key = id.slice(dot + 1);
  return (entity === 'metrics' || entity === 'params') && key ? { entity, key } : undefined;
}

/** The metric and param keys the runs have, each sorted: what the column chooser offers. */
export function keysOf(runs: readonly RunJson[]): { metrics: string[]; params: string[] } {
  const metrics = new Set<string>();
  const params = new Set<string>();
  for (const run of runs) {
    for (const metric of run.data?.metrics ?? []) metrics.add(metric.key ?? '');
    for (const param of run.data?.params ?? []) params.add(param.key ?? '');
  }
  const sorted = (keys: Set<string>) => [...keys].filter(Boolean).sort();
  return { metrics: sorted(metrics), params: sorted(params) };
}

/** A run's latest value of a metric, or its value of a param. */
export function valueOf(run: RunJson, column: ChosenColumn): string | number | undefined {
  if (column.entity === 'params') return run.data?.params?.find((param) => param.key === column.key)?.value;
  const value = run.data?.metrics?.find((metric) => metric.key === column.key)?.value;
  return value === undefined ? undefined : Number(value);
}

/** Attributes the table sorts by, as the search grammar names them. */
export const ATTRIBUTE_SORTS = ['attributes.start_time', 'attributes.run_name', 'attributes.status'] as const;

/**
 * The search's order_by clause for a sort of the table: attributes as they are, a param's or
 * metric's key quoted with backticks (keys may hold spaces, dots, dashes and slashes).
 */
export function orderByClause(sort: { key: string; descending: boolean }): string {
  const column = parseColumnId(sort.key);
  const target = column ? `${column.entity}.\`${column.key}\`` : sort.key;
  return `${target} ${sort.descending ? 'DESC' : 'ASC'}`;
}

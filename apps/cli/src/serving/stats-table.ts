import type { GetEndpointStatsResponseJson, StatsBucketJson } from '@trellis/proto/trellis/serving/v1/endpoint_service_pb';
import type { TableColumn } from '../output';

/** A bucket as a row of `trellis endpoints stats`: its start, counts, error rate and latency percentiles. */
export interface StatsRow {
  time: string;
  revision: string;
  bucket: StatsBucketJson;
}

/** One row per bucket: the endpoint's total, or (`byRevision`) one per revision and bucket, in time order. */
export function statsRows(stats: GetEndpointStatsResponseJson, byRevision: boolean): StatsRow[] {
  const rows: StatsRow[] = byRevision
    ? (stats.revisions ?? []).flatMap((revision) => (revision.buckets ?? []).map((bucket) => ({ time: '', revision: String(revision.revisionNumber ?? ''), bucket })))
    : (stats.total ?? []).map((bucket) => ({ time: '', revision: 'all', bucket }));
  rows.sort((a, b) => Number(a.bucket.timestampMs) - Number(b.bucket.timestampMs) || a.revision.localeCompare(b.revision));
  for (const row of rows) row.time = new Date(Number(row.bucket.timestampMs)).toISOString().replace('.000Z', 'Z');
  return rows;
}

const ms = (value: number | string | undefined) => (typeof value !== 'number' ? '' : value < 10 ? value.toFixed(2) : value.toFixed(1));

export const STATS_COLUMNS: ReadonlyArray<TableColumn<StatsRow>> = [
  { header: 'time', value: (row) => row.time },
  { header: 'revision', value: (row) => row.revision },
  { header: 'requests', value: (row) => row.bucket.requests ?? '0' },
  { header: 'errors', value: (row) => row.bucket.errors ?? '0' },
  { header: 'error %', value: (row) => ((100 * Number(row.bucket.errors ?? 0)) / Math.max(1, Number(row.bucket.requests ?? 0))).toFixed(1) },
  { header: 'p50 ms', value: (row) => ms(row.bucket.p50Ms) },
  { header: 'p95 ms', value: (row) => ms(row.bucket.p95Ms) },
  { header: 'p99 ms', value: (row) => ms(row.bucket.p99Ms) },
];

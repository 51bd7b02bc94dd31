import type { GetEndpointStatsResponseJson, StatsBucketJson } from '@trellis/proto/trellis/serving/v1/endpoint_service_pb';
import { useState } from 'react';
import { useRpc } from '../../api/use-rpc';
import { ErrorBanner } from '../../components/error-banner';
import { Panel } from '../../components/page';
import { TimeSeriesChart, type ChartSeries } from '../../components/time-series-chart';
import { SERVING } from './serving-api';

/** The spans a person picks from, each with a bucket width that keeps it under the service's 1,440 buckets. */
const SPANS = [
  { value: '1h', label: 'Last hour', spanMs: 3_600_000, bucket: '60s' },
  { value: '6h', label: 'Last 6 hours', spanMs: 6 * 3_600_000, bucket: '300s' },
  { value: '24h', label: 'Last 24 hours', spanMs: 24 * 3_600_000, bucket: '900s' },
  { value: '7d', label: 'Last 7 days', spanMs: 7 * 24 * 3_600_000, bucket: '3600s' },
] as const;

/**
 * An endpoint's latency (p50, p95, p99 of all its revisions) and errors (per revision) over time,
 * from GetEndpointStats: every bucket of the span is on the x axis, and a bucket without requests
 * is a gap.
 */
export function EndpointStatsCharts({ endpointId }: { endpointId: string }) {
  const [spanValue, setSpanValue] = useState<(typeof SPANS)[number]['value']>('1h');
  const span = SPANS.find((candidate) => candidate.value === spanValue) ?? SPANS[0];
  // The span's start moves only when the person picks another span or reloads, not on every render.
  const [now, setNow] = useState(() => Date.now());
  const { data, error, loading } = useRpc<GetEndpointStatsResponseJson>(SERVING.getEndpointStats, {
    endpointId,
    startTime: new Date(now - span.spanMs).toISOString(),
    bucketWidth: span.bucket,
  });
  const axis = data ? bucketAxis(data) : [];
  const requests = (data?.total ?? []).reduce((sum, bucket) => sum + Number(bucket.requests ?? 0), 0);
  const latency: ChartSeries[] = data
    ? [
        { label: 'p50 ms', values: along(axis, data.total, (bucket) => Number(bucket.p50Ms ?? 0)) },
        { label: 'p95 ms', values: along(axis, data.total, (bucket) => Number(bucket.p95Ms ?? 0)) },
        { label: 'p99 ms', values: along(axis, data.total, (bucket) => Number(bucket.p99Ms ?? 0)) },
      ]
    : [];
  const errors: ChartSeries[] = (data?.revisions ?? []).map((revision) => ({
    label: `revision ${revision.revisionNumber} errors`,
    values: along(axis, revision.buckets, (bucket) => Number(bucket.errors ?? 0), 0),
  }));
  errors.push({ label: 'all requests', values: along(axis, data?.total, (bucket) => Number(bucket.requests ?? 0), 0) });
  return (
    <Panel
      title="Latency and errors"
      actions={
        <span className="inline-form">
          <label htmlFor="stats-span">Span</label>
          <select
            id="stats-span"
            value={spanValue}
            onChange={(event) => {
              setSpanValue(event.target.value as typeof spanValue);
              setNow(Date.now());
            }}
          >
            {SPANS.map((candidate) => (
              <option key={candidate.value} value={candidate.value}>
                {candidate.label}
              </option>
            ))}
          </select>
          <button type="button" className="secondary" onClick={() => setNow(Date.now())}>
            Refresh
          </button>
        </span>
      }
    >
      <ErrorBanner error={error} />
      {loading && !data ? <p className="muted">Loading…</p> : null}
      {data && requests === 0 ? <p className="muted">No requests in this span.</p> : null}
      {data && requests > 0 ? (
        <>
          <p className="muted">
            {requests.toLocaleString()} requests, {(data.total ?? []).reduce((sum, bucket) => sum + Number(bucket.errors ?? 0), 0).toLocaleString()} errors.
          </p>
          <div className="stats-charts">
            <TimeSeriesChart label="Latency percentiles over time, in milliseconds" time x={axis} series={latency} yLabel="ms" height={220} />
            <TimeSeriesChart label="Requests and errors per revision over time" time x={axis} series={errors} yLabel="requests" height={220} />
          </div>
        </>
      ) : null}
    </Panel>
  );
}

/** The start of every bucket of the answered span, in seconds (the chart's time axis). */
function bucketAxis(stats: GetEndpointStatsResponseJson): number[] {
  const from = Date.parse(stats.startTime ?? '');
  const to = Date.parse(stats.endTime ?? '');
  const width = Number.parseFloat(stats.bucketWidth ?? '60') * 1000;
  const axis: number[] = [];
  for (let start = from; start < to && axis.length < 1440; start += width) axis.push(start / 1000);
  return axis;
}

/**
 * A value per bucket of the axis from the buckets that had requests; `empty` for the others: 0 for
 * counts, null (a gap) for latencies, which a bucket without requests does not have.
 */
function along(axis: readonly number[], buckets: readonly StatsBucketJson[] | undefined, value: (bucket: StatsBucketJson) => number, empty: number | null = null): Array<number | null> {
  const byStart = new Map((buckets ?? []).map((bucket) => [Number(bucket.timestampMs) / 1000, bucket]));
  return axis.map((start) => {
    const bucket = byStart.get(start);
    return bucket ? value(bucket) : empty;
  });
}

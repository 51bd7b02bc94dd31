import type { GetSampledMetricSeriesResponseJson } from '@trellis/proto/trellis/tracking/v1/metric_service_pb';
import { useEffect, useMemo, useState } from 'react';
import { useSession } from '../../api/session';
import { ErrorBanner } from '../../components/error-banner';
import { formatNumber } from '../../components/format';
import { PALETTE, TimeSeriesChart } from '../../components/time-series-chart';
import { alignSeries, stepRange } from './metric-series';

type StepRange = { start: number; end: number };
type Sampling = 'METRIC_SAMPLING_EXTREMES' | 'METRIC_SAMPLING_EVEN_STEPS';

/** Points per run a chart asks for: about one per pixel of a wide chart, whatever the series' length. */
export const CHART_POINTS = 1000;

/**
 * One metric of one or more runs as a line chart that never downloads a whole series: tracking
 * samples each run's points in the shown step range down to about CHART_POINTS, keeping every
 * bucket's lowest and highest value so spikes show. Dragging across the chart zooms in and asks
 * again for the zoomed range alone, so detail grows as the range shrinks, down to every point.
 * The caption says which steps are shown and how many points of how many.
 */
export function SampledMetricChart({ metricKey, runs, sampling = 'METRIC_SAMPLING_EXTREMES' }: { metricKey: string; runs: ReadonlyArray<{ id: string; label: string }>; sampling?: Sampling }) {
  const [range, setRange] = useState<StepRange>();
  const { answer, error } = useSampledSeries(runs, metricKey, sampling, range);
  const data = answer?.data;
  // Until the answer for the asked range arrives, the chart keeps the previous one (zoomed by uPlot meanwhile).
  const loading = !error && (!answer || answer.range !== range);
  // Keyed by content: a new array of the same runs must not redraw the chart.
  const runsKey = JSON.stringify(runs);
  const { x, series } = useMemo(() => {
    // Each run keeps its colour by its place among the runs, whichever of them have points.
    const ordered: Array<{ id: string; label: string }> = JSON.parse(runsKey);
    return alignSeries(
      (data?.series ?? []).map((one) => {
        const index = ordered.findIndex((run) => run.id === one.runId);
        return { label: ordered[index]?.label ?? one.runId ?? '', color: PALETTE[Math.max(index, 0) % PALETTE.length], points: one.points };
      }),
    );
  }, [data, runsKey]);
  const shown = (data?.series ?? []).reduce((sum, one) => sum + (one.points?.steps?.length ?? 0), 0);
  const total = (data?.series ?? []).reduce((sum, one) => sum + Number(one.totalPoints ?? 0), 0);
  const onZoom = (zoomed: { min: number; max: number } | undefined) => {
    if (!zoomed) return setRange(undefined);
    const steps = stepRange(zoomed);
    if (steps) setRange(steps);
  };
  return (
    <figure className="metric-chart" aria-busy={loading ? 'true' : 'false'}>
      <div className="metric-chart-header">
        <h3>{metricKey}</h3>
        {range ? (
          <button type="button" className="secondary" onClick={() => setRange(undefined)}>
            Zoom out
          </button>
        ) : null}
      </div>
      <ErrorBanner error={error} />
      {data && x.length > 0 ? <TimeSeriesChart label={`${metricKey} by step`} x={x} series={series} onZoom={onZoom} yLabel={metricKey} spanGaps={series.length > 1} /> : null}
      <figcaption className="muted" aria-live="polite">
        {captionOf({ loading, range, x, shown, total })}
      </figcaption>
    </figure>
  );
}

/** What the chart shows, once its points arrived: the steps, and how many points of how many. */
function captionOf({ loading, range, x, shown, total }: { loading: boolean; range?: StepRange; x: readonly number[]; shown: number; total: number }): string {
  if (loading) return range ? `Loading steps ${formatNumber(range.start)}–${formatNumber(range.end)}…` : 'Loading…';
  if (x.length === 0) return 'No points in this range.';
  const steps = `Steps ${formatNumber(x[0])}–${formatNumber(x[x.length - 1])}: ${formatNumber(shown)} of ${formatNumber(total)} points`;
  return `${steps}${range ? ' (zoomed; drag to zoom further)' : ' (drag across to zoom in)'}`;
}

/**
 * The runs' sampled points of a metric in a step range (all steps when undefined), with the range
 * the answer is for: a page must not take the previous range's points for the new one's.
 */
function useSampledSeries(runs: ReadonlyArray<{ id: string }>, key: string, sampling: Sampling, range: StepRange | undefined) {
  const { client } = useSession();
  const [state, setState] = useState<{ answer?: { range?: StepRange; data: GetSampledMetricSeriesResponseJson }; error?: Error }>({});
  const runIds = runs.map((run) => run.id).join(',');
  useEffect(() => {
    const abort = new AbortController();
    setState((previous) => ({ answer: previous.answer }));
    const body = { runIds: runIds.split(','), key, maxPoints: CHART_POINTS, sampling, ...(range ? { startStep: String(range.start), endStep: String(range.end) } : {}) };
    client.call<GetSampledMetricSeriesResponseJson>('trellis.tracking.v1.MetricService/GetSampledMetricSeries', body, { signal: abort.signal }).then(
      (data) => !abort.signal.aborted && setState({ answer: { range, data } }),
      (error: Error) => !abort.signal.aborted && setState((previous) => ({ ...previous, error })),
    );
    return () => abort.abort();
  }, [client, runIds, key, sampling, range]);
  return state;
}

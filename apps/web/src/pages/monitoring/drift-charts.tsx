import type { MonitoredColumnJson, WindowResultJson } from '@trellis/proto/trellis/monitoring/v1/resources_pb';
import { useMemo } from 'react';
import { TimeSeriesChart, type ChartSeries } from '../../components/time-series-chart';
import { epochSeconds } from './monitoring-api';

const THRESHOLD_COLOR = '#b4462c';

/** A chart's x (each window's end, in seconds) and its series. */
interface ChartData {
  x: number[];
  series: ChartSeries[];
}

/**
 * One chart per column of its drift score across windows (the p-value or distance), with the
 * threshold its verdicts used as a second line: a p-value drifted below it, a distance above.
 * Columns that drifted in the last window come first.
 */
export function DriftCharts({ windows, columns }: { windows: readonly WindowResultJson[]; columns: readonly MonitoredColumnJson[] }) {
  const x = useMemo(() => windows.map((window) => epochSeconds(window.endTime)), [windows]);
  const charts = useMemo(() => {
    const last = windows[windows.length - 1];
    const driftedLast = new Set((last?.columns ?? []).filter((column) => column.drifted).map((column) => column.column));
    const ordered = [...columns].sort((a, b) => Number(driftedLast.has(b.name)) - Number(driftedLast.has(a.name)));
    return ordered.map((column) => {
      const results = windows.map((window) => window.columns?.find((result) => result.column === column.name));
      const pValue = results.some((result) => result?.pValue);
      const value = (result: (typeof results)[number]) => (result && !result.error ? Number(result.value ?? 0) : null);
      const data: ChartData = {
        x,
        series: [
          { label: pValue ? 'p-value' : 'distance', values: results.map(value) },
          { label: 'threshold', values: results.map((result) => (result ? Number(result.threshold ?? column.threshold ?? 0) : null)), color: THRESHOLD_COLOR },
        ],
      };
      return { column, pValue, drifted: driftedLast.has(column.name), data };
    });
  }, [windows, columns, x]);
  return (
    <div className="card-grid">
      {charts.map(({ column, pValue, drifted, data }) => (
        <section key={column.name} aria-label={`Column ${column.name}`}>
          <h3>
            {column.name} <span className="muted">({column.detector}: drifted {pValue ? 'below' : 'above'} the threshold)</span>{' '}
            {drifted ? <span className="badge bad">drifted in the last window</span> : null}
          </h3>
          <TimeSeriesChart
            time
            height={180}
            x={data.x}
            series={data.series}
            yLabel={pValue ? 'p-value' : 'distance'}
            label={`Drift of column ${column.name}: its ${pValue ? 'p-value' : 'distance'} per window, with the threshold ${column.threshold ?? ''}`}
          />
        </section>
      ))}
    </div>
  );
}

/** The share of drifted columns per window, with the share that makes dataset drift. */
export function DriftShareChart({ windows, driftShare }: { windows: readonly WindowResultJson[]; driftShare: number }) {
  const data = useMemo<ChartData>(
    () => ({
      x: windows.map((window) => epochSeconds(window.endTime)),
      series: [
        { label: 'drifted share', values: windows.map((window) => Number(window.driftShare ?? 0)) },
        { label: 'dataset drift at', values: windows.map(() => driftShare), color: THRESHOLD_COLOR },
      ],
    }),
    [windows, driftShare],
  );
  return <TimeSeriesChart time height={180} x={data.x} series={data.series} yLabel="share" label={`Share of drifted columns per window, dataset drift at ${driftShare}`} />;
}

/** Metrics per window over its labelled rows: accuracy, precision, recall and F1, or MAE and RMSE. */
export function PerformanceChart({ windows, regression }: { windows: readonly WindowResultJson[]; regression: boolean }) {
  const data = useMemo<ChartData>(() => {
    const metrics = regression ? (['mae', 'rmse'] as const) : (['accuracy', 'precision', 'recall', 'f1'] as const);
    return {
      x: windows.map((window) => epochSeconds(window.endTime)),
      series: metrics.map((metric) => ({ label: metric, values: windows.map((window) => (window.performance ? Number(window.performance[metric] ?? 0) : null)) })),
    };
  }, [windows, regression]);
  return <TimeSeriesChart time height={220} x={data.x} series={data.series} label={`Performance per window on labelled rows: ${data.series.map((line) => line.label).join(', ')}`} />;
}

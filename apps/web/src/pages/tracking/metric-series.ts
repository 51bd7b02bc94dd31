import type { MetricColumnsJson } from '@trellis/proto/trellis/tracking/v1/metric_service_pb';
import type { ChartSeries } from '../../components/time-series-chart';

/** One run's points of a metric as the gateway sends them, with the line's label. */
export interface LabelledPoints {
  label: string;
  color?: string;
  points?: MetricColumnsJson;
}

/**
 * Several runs' points on one x axis, as the chart draws them: x is every step any run has, in
 * order, and each run has a value at its own steps and a gap elsewhere. NaN and the infinities
 * (which JSON carries as strings) are gaps too: a line cannot be drawn through them.
 */
export function alignSeries(lines: readonly LabelledPoints[]): { x: number[]; series: ChartSeries[] } {
  const steps = new Set<number>();
  for (const line of lines) for (const step of line.points?.steps ?? []) steps.add(Number(step));
  const x = [...steps].sort((a, b) => a - b);
  const indexOf = new Map(x.map((step, index) => [step, index]));
  const series = lines.map((line) => {
    const values: Array<number | null> = new Array(x.length).fill(null);
    const { steps: own = [], values: measured = [] } = line.points ?? {};
    // Of several points at one step the last logged is drawn, as the run's latest value is.
    own.forEach((step, i) => {
      const value = Number(measured[i]);
      values[indexOf.get(Number(step)) as number] = Number.isFinite(value) ? value : null;
    });
    return { label: line.label, color: line.color, values };
  });
  return { x, series };
}

/** The step range a chart zoomed to, widened to whole steps; undefined when it holds no step. */
export function stepRange(range: { min: number; max: number }): { start: number; end: number } | undefined {
  const start = Math.ceil(range.min);
  const end = Math.floor(range.max);
  return start <= end ? { start, end } : undefined;
}

import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** One line of a chart: its label and its y values, one per x (null leaves a gap). */
export interface ChartSeries {
  label: string;
  values: ReadonlyArray<number | null>;
  /** CSS colour; a palette colour by position when absent. */
  color?: string;
}

/** Colours of successive series, distinguishable and readable on white. */
export const PALETTE = ['#1f5f4a', '#b4462c', '#2b5fab', '#8a5a00', '#6b3fa0', '#0f7c86', '#a1267a', '#4b5d1e'];

/**
 * A line chart on uPlot: `x` shared by every series (seconds since the epoch when `time`, else
 * steps or any number). Dragging across selects a range: the chart zooms there and calls
 * `onZoom(min, max)` so the page can fetch finer points for it; a double click zooms out
 * (`onZoom(undefined)`). The chart resizes with its container.
 */
export function TimeSeriesChart({
  x,
  series,
  time = false,
  height = 260,
  yLabel,
  onZoom,
  label,
  spanGaps = false,
}: {
  x: readonly number[];
  series: readonly ChartSeries[];
  time?: boolean;
  height?: number;
  yLabel?: string;
  onZoom?(range: { min: number; max: number } | undefined): void;
  /** The chart's accessible name (it is an image to screen readers). */
  label: string;
  /** Draw lines across missing values: for series logged at different x (runs compared by step). */
  spanGaps?: boolean;
}) {
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const zoomHandler = useRef(onZoom);
  zoomHandler.current = onZoom;

  useEffect(() => {
    const target = container.current;
    if (!target) return;
    const options: uPlot.Options = {
      width: Math.max(target.clientWidth, 200),
      height,
      scales: { x: { time } },
      series: [
        {},
        ...series.map((line, index) => {
          // A value with gaps on both sides has no line to draw: it is drawn as a dot instead.
          const isolated = isolatedIndexes(line.values);
          return {
            label: line.label,
            stroke: line.color ?? PALETTE[index % PALETTE.length],
            width: 1.5,
            spanGaps,
            ...(!spanGaps && isolated.length > 0 ? { points: { show: true, size: 6, filter: isolated } } : {}),
          };
        }),
      ],
      axes: [{}, { label: yLabel }],
      cursor: { drag: { x: true, y: false } },
      hooks: {
        setSelect: [
          (chart) => {
            if (chart.select.width < 2) return;
            const min = chart.posToVal(chart.select.left, 'x');
            const max = chart.posToVal(chart.select.left + chart.select.width, 'x');
            chart.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            chart.setScale('x', { min, max });
            zoomHandler.current?.({ min, max });
          },
        ],
      },
    };
    const data = [Array.from(x), ...series.map((line) => Array.from(line.values))] as uPlot.AlignedData;
    const chart = new uPlot(options, data, target);
    plot.current = chart;
    const zoomOut = () => {
      chart.setScale('x', { min: x[0], max: x[x.length - 1] });
      zoomHandler.current?.(undefined);
    };
    chart.over.addEventListener('dblclick', zoomOut);
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(target.clientWidth, 200), height }));
    resize.observe(target);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = undefined;
    };
  }, [x, series, time, height, yLabel, spanGaps]);

  return <div className="chart" ref={container} role="img" aria-label={label} />;
}

/** Indexes of values whose neighbours are both missing (or the ends of the series). */
function isolatedIndexes(values: ReadonlyArray<number | null>): number[] {
  const missing = (index: number) => index < 0 || index >= values.length || values[index] === null;
  return values.flatMap((value, index) => (value !== null && missing(index - 1) && missing(index + 1) ? [index] : []));
}

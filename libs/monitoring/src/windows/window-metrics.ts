import { Injectable } from '@nestjs/common';
import { Metrics } from '@trellis/platform';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { MonitorEntity } from '../monitors/monitor.entity';
import type { ScoredWindow } from './scored-window';

type MonitorLabels = 'project' | 'monitor';

/**
 * Prometheus series of the windows feature on the kit's registry (`/metrics`), per monitor (by
 * project and name): rows ingested, skipped and late, windows closed, and the last window's drift
 * share, dataset drift and each column's value, verdict and missing rate. Counts are this
 * replica's own; they are raised in the transaction that stores the rows, so a batch that rolls
 * back and comes again counts twice.
 */
@Injectable()
export class WindowMetrics {
  private readonly ingested: Counter<MonitorLabels>;
  private readonly skipped: Counter<MonitorLabels>;
  private readonly late: Counter<MonitorLabels>;
  private readonly closed: Counter<MonitorLabels>;
  private readonly share: Gauge<MonitorLabels>;
  private readonly datasetDrift: Gauge<MonitorLabels>;
  private readonly columnValue: Gauge<MonitorLabels | 'column'>;
  private readonly columnDrifted: Gauge<MonitorLabels | 'column'>;
  private readonly columnMissing: Gauge<MonitorLabels | 'column'>;
  /** The column series set per monitor, so that a deleted monitor's series go too. */
  private readonly columnsOf = new Map<string, { labels: Record<MonitorLabels, string>; columns: Set<string> }>();

  constructor(metrics: Metrics) {
    const registry = metrics.registry;
    const counter = (name: string, help: string) => reuse(registry, name, () => new Counter({ name, help, labelNames: ['project', 'monitor'] as const, registers: [registry] }));
    const gauge = (name: string, help: string) => reuse(registry, name, () => new Gauge({ name, help, labelNames: ['project', 'monitor'] as const, registers: [registry] }));
    const columnGauge = (name: string, help: string) => reuse(registry, name, () => new Gauge({ name, help, labelNames: ['project', 'monitor', 'column'] as const, registers: [registry] }));
    this.ingested = counter('trellis_monitoring_rows_ingested_total', "Logged prediction rows a monitor consumed into its windows (or its log-window reference).");
    this.skipped = counter('trellis_monitoring_rows_skipped_total', 'Logged prediction rows a monitor skipped while its dataset reference was being profiled.');
    this.late = counter('trellis_monitoring_rows_late_total', 'Logged prediction rows answered before the start of every open time window of a monitor, left out.');
    this.closed = counter('trellis_monitoring_windows_closed_total', "Windows a monitor scored.");
    this.share = gauge('trellis_monitoring_drift_share', "The share of drifted columns in a monitor's last window.");
    this.datasetDrift = gauge('trellis_monitoring_dataset_drift', "1 when a monitor's last window was dataset drift, else 0.");
    this.columnValue = columnGauge('trellis_monitoring_column_value', "A column's p-value or distance in its monitor's last window.");
    this.columnDrifted = columnGauge('trellis_monitoring_column_drifted', "1 when a column drifted in its monitor's last window, else 0.");
    this.columnMissing = columnGauge('trellis_monitoring_column_missing_rate', "The share of a monitor's last window's rows without a value for the column.");
  }

  rowsIngested(monitor: MonitorEntity, rows: number): void {
    if (rows > 0) this.ingested.inc(labelsOf(monitor), rows);
  }

  rowsSkipped(monitor: MonitorEntity, rows: number): void {
    if (rows > 0) this.skipped.inc(labelsOf(monitor), rows);
  }

  rowsLate(monitor: MonitorEntity, rows: number): void {
    if (rows > 0) this.late.inc(labelsOf(monitor), rows);
  }

  windowClosed(monitor: MonitorEntity, window: ScoredWindow): void {
    const labels = labelsOf(monitor);
    this.closed.inc(labels);
    this.share.set(labels, window.driftShare);
    this.datasetDrift.set(labels, window.datasetDrift ? 1 : 0);
    const seen = this.columnsOf.get(monitor.id) ?? { labels, columns: new Set<string>() };
    this.columnsOf.set(monitor.id, seen);
    for (const column of window.columns) {
      const columnLabels = { ...labels, column: column.column };
      seen.columns.add(column.column);
      if (column.error) {
        this.columnValue.remove(columnLabels);
        this.columnDrifted.remove(columnLabels);
      } else {
        this.columnValue.set(columnLabels, column.value);
        this.columnDrifted.set(columnLabels, column.drifted ? 1 : 0);
      }
      this.columnMissing.set(columnLabels, column.missingRate);
    }
  }

  /** Drops a deleted monitor's series. */
  forget(monitor: Pick<MonitorEntity, 'id' | 'projectId' | 'name'>): void {
    const labels = labelsOf(monitor);
    for (const metric of [this.ingested, this.skipped, this.late, this.closed, this.share, this.datasetDrift]) metric.remove(labels);
    for (const column of this.columnsOf.get(monitor.id)?.columns ?? []) {
      for (const metric of [this.columnValue, this.columnDrifted, this.columnMissing]) metric.remove({ ...labels, column });
    }
    this.columnsOf.delete(monitor.id);
  }
}

function labelsOf(monitor: Pick<MonitorEntity, 'projectId' | 'name'>): Record<MonitorLabels, string> {
  return { project: monitor.projectId, monitor: monitor.name };
}

/** The metric of that name already on the registry (a second service container in one process), or a new one. */
function reuse<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

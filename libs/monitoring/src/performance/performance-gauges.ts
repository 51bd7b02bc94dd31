import { Injectable } from '@nestjs/common';
import { Metrics } from '@trellis/platform';
import { Gauge } from 'prom-client';
import type { WindowPerformance } from './window-performance';
import { PerformanceRepository } from './performance.repository';

/** The gauge's name in `/metrics`. */
export const PERFORMANCE_GAUGE = 'trellis_monitoring_performance';

/** The metrics each task reports, by the name of their `metric` label. */
const TASK_METRICS: Record<'classification' | 'regression', ReadonlyArray<keyof WindowPerformance>> = {
  classification: ['labeledRows', 'accuracy', 'precision', 'recall', 'f1'],
  regression: ['labeledRows', 'mae', 'rmse'],
};

/** The `metric` label of each field. */
const METRIC_LABEL: Record<keyof WindowPerformance, string> = {
  labeledRows: 'labeled_rows',
  accuracy: 'accuracy',
  precision: 'precision',
  recall: 'recall',
  f1: 'f1',
  mae: 'mae',
  rmse: 'rmse',
};

/**
 * `trellis_monitoring_performance{project, monitor, monitor_id, metric}`: each monitor's metrics in
 * its last window with labelled rows (a window without labels has no performance to report). Read
 * from the database at each scrape, so every replica reports the same figures whichever of them
 * closed the window or took the labels.
 */
@Injectable()
export class PerformanceGauges {
  readonly gauge: Gauge<'project' | 'monitor' | 'monitor_id' | 'metric'>;

  constructor(metrics: Metrics, private readonly repository: PerformanceRepository) {
    // A service started again in the same process (specs) replaces the gauge, which reads through the new repository.
    metrics.registry.removeSingleMetric(PERFORMANCE_GAUGE);
    this.gauge = new Gauge({
      name: PERFORMANCE_GAUGE,
      help: "A monitor's performance metric in its last window with labelled rows, by project, monitor and metric (accuracy, precision, recall, f1, mae, rmse, labeled_rows).",
      labelNames: ['project', 'monitor', 'monitor_id', 'metric'] as const,
      registers: [metrics.registry],
      collect: () => this.collect(),
    });
  }

  private async collect(): Promise<void> {
    const gauge = this.gauge;
    gauge.reset();
    let latest;
    try {
      latest = await this.repository.latestPerformance();
    } catch {
      // A scrape while the database is away reports no performance rather than failing every metric of the process.
      return;
    }
    for (const monitor of latest) {
      for (const field of TASK_METRICS[monitor.spec.task]) {
        gauge.set({ project: monitor.projectId, monitor: monitor.monitorName, monitor_id: monitor.monitorId, metric: METRIC_LABEL[field] }, monitor.performance[field]);
      }
    }
  }
}

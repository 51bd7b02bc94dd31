import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AlertEvaluator } from '../alerts/alert-evaluator';
import type { MonitorEntity, StoredPerformance } from '../monitors/monitor.entity';
import type { ScoredWindow } from '../windows/scored-window';
import { classText, performanceOf, positiveClassOf } from './performance-metrics';
import { PerformanceRepository, type WindowRange } from './performance.repository';
import type { PredictedRow, WindowPerformance } from './window-performance';

/**
 * The performance of monitors' windows: ingest records the predicted rows of monitors with
 * performance, the windows feature hands over each closed window, and posted labels measure the
 * windows that hold their predictions again. Every method writes in the caller's transaction, so a
 * window's performance commits with the window, and a label's effects with the label.
 */
@Injectable()
export class PerformanceLedger {
  constructor(
    private readonly repository: PerformanceRepository,
    private readonly alerts: AlertEvaluator,
  ) {}

  /** Records the predicted rows of a monitor with performance, in one multi-row insert; nothing for a monitor without. */
  async recordPredictions(manager: EntityManager, monitor: MonitorEntity, rows: PredictedRow[]): Promise<void> {
    if (!monitor.performance || rows.length === 0) return;
    await this.repository.insertPredictions(
      manager,
      rows.map((row) => ({
        monitorId: monitor.id,
        seq: row.seq,
        requestId: row.requestId,
        row: row.row,
        answeredAt: row.answeredAtMs,
        predictedClass: classText(row.predicted),
        // NaN and infinities have no error to add up (and SQLite would store NaN as NULL anyway).
        predictedValue: typeof row.predicted === 'number' && Number.isFinite(row.predicted) ? row.predicted : null,
      })),
    );
  }

  /**
   * Records a closed window's seq range and measures it on the labels already posted; a window
   * with labelled rows is judged by the performance alert rules at once.
   */
  async windowClosed(manager: EntityManager, monitor: MonitorEntity, window: ScoredWindow): Promise<void> {
    const spec = monitor.performance;
    if (!spec) return;
    // Labels of this monitor's rows wait for this transaction, so they find the window (and it their labels).
    await this.repository.lockMonitor(manager, monitor.id);
    const range: WindowRange = { monitorId: monitor.id, number: window.number, firstSeq: window.firstSeq, lastSeq: window.lastSeq, closedAt: window.closedAtMs };
    const performance = await this.measure(manager, monitor, spec, range);
    await this.repository.upsertWindow(manager, { ...range, ...performance });
    if (performance.labeledRows > 0) await this.alerts.judgePerformance(manager, monitor, { number: window.number, closedAtMs: window.closedAtMs }, performance);
  }

  /**
   * Measures again the closed windows of the monitor that hold any of the rows `seqs` (labels
   * just posted for them), stores their performance and has the alert rules judge each, in window
   * order. Returns the numbers of the windows measured. The caller holds the monitor's lock.
   */
  async labelsArrived(manager: EntityManager, monitor: MonitorEntity, seqs: readonly number[]): Promise<number[]> {
    const spec = monitor.performance;
    if (!spec || seqs.length === 0) return [];
    const sorted = [...seqs].sort((a, b) => a - b);
    const candidates = await this.repository.windowsMeeting(manager, monitor.id, sorted[0], sorted[sorted.length - 1]);
    const affected = candidates.filter((window) => holdsAny(window, sorted));
    for (const window of affected) {
      const performance = await this.measure(manager, monitor, spec, window);
      await this.repository.updatePerformance(manager, monitor.id, window.number, performance);
      await this.alerts.judgePerformance(manager, monitor, { number: window.number, closedAtMs: window.closedAt }, performance);
    }
    return affected.map((window) => window.number);
  }

  /** The stored performance of those of the monitor's windows that have labelled rows, by number. */
  async forWindows(monitorId: string, numbers: number[]): Promise<Map<number, WindowPerformance>> {
    const windows = await this.repository.windowsWithLabels(monitorId, numbers);
    return new Map(windows.map((window) => [window.number, performanceFields(window)]));
  }

  private async measure(manager: EntityManager, monitor: MonitorEntity, spec: StoredPerformance, window: WindowRange): Promise<WindowPerformance> {
    const counts = await this.repository.countsOf(manager, monitor, window.firstSeq, window.lastSeq, positiveClassOf(spec));
    return performanceOf(spec, counts);
  }
}

/** Whether one of the ascending `seqs` falls in the window's range. */
function holdsAny(window: WindowRange, seqs: readonly number[]): boolean {
  let low = 0;
  let high = seqs.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (seqs[middle] < window.firstSeq) low = middle + 1;
    else high = middle;
  }
  return low < seqs.length && seqs[low] <= window.lastSeq;
}

function performanceFields(window: WindowPerformance): WindowPerformance {
  const { labeledRows, accuracy, precision, recall, f1, mae, rmse } = window;
  return { labeledRows, accuracy, precision, recall, f1, mae, rmse };
}

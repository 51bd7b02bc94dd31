import { Injectable } from '@nestjs/common';
import { InjectPluginInstances, PluginInstances } from '@trellis/platform';
import type { DriftColumn, DriftDetector, DriftReference } from '@trellis/plugin-sdk';
import type { EntityManager } from 'typeorm';
import type { MonitorEntity, MonitoredColumnRow } from '../monitors/monitor.entity';
import type { ColumnVerdict } from './scored-window';
import { WindowRepository } from './window.repository';

/** One column's values in a window: numbers with NaN for missing, or categories with null. */
export type WindowColumn = Float64Array | ReadonlyArray<string | null>;

/** A monitor's fitted references and opened detectors, valid while the monitor is unchanged. */
interface Fitted {
  key: string;
  references: Map<string, DriftReference>;
  detectors: Map<string, Promise<DriftDetector>>;
}

/**
 * Scores a window's columns, each with its detector instance against its fitted reference. The
 * parsed references and opened detectors are kept per monitor, read again when the monitor
 * changes (its reference refitted, its columns resolved) or is forgotten.
 */
@Injectable()
export class WindowScorer {
  private readonly fitted = new Map<string, Fitted>();

  constructor(
    @InjectPluginInstances('drift') private readonly instances: PluginInstances<'drift'>,
    private readonly repository: WindowRepository,
  ) {}

  /** The verdict of each of the monitor's columns, in its order; `values` holds each column's window by name. */
  async score(tx: EntityManager, monitor: MonitorEntity, values: ReadonlyMap<string, WindowColumn>, rows: number): Promise<ColumnVerdict[]> {
    const fitted = await this.fittedOf(tx, monitor);
    const verdicts: ColumnVerdict[] = [];
    for (const column of monitor.monitoredColumns) verdicts.push(await this.scoreColumn(fitted, column, values.get(column.name), rows));
    return verdicts;
  }

  forget(monitorId: string): void {
    this.fitted.delete(monitorId);
  }

  private async scoreColumn(fitted: Fitted, column: MonitoredColumnRow, window: WindowColumn | undefined, rows: number): Promise<ColumnVerdict> {
    const present = presentValues(column, window);
    const count = present.values.length;
    const verdict: ColumnVerdict = {
      column: column.name,
      detector: column.detector,
      pValue: false,
      statistic: 0,
      value: 0,
      threshold: column.threshold,
      drifted: false,
      rows: count,
      missingRate: rows === 0 ? 0 : (rows - count) / rows,
      error: '',
    };
    const reference = fitted.references.get(column.name);
    if (!reference) return { ...verdict, error: `column ${column.name} has no fitted reference` };
    if (count === 0) return { ...verdict, error: 'no values in the window' };
    try {
      const detector = await this.detectorOf(fitted, column.detector);
      const score = await detector.score(reference, present, column.threshold > 0 ? { threshold: column.threshold } : {});
      const value = score.measure === 'p-value' ? score.pValue : score.distance;
      return { ...verdict, pValue: score.measure === 'p-value', statistic: score.statistic, value, threshold: score.threshold, drifted: score.drifted };
    } catch (error) {
      return { ...verdict, error: error instanceof Error ? error.message : String(error) };
    }
  }

  private detectorOf(fitted: Fitted, name: string): Promise<DriftDetector> {
    let detector = fitted.detectors.get(name);
    if (!detector) {
      detector = this.instances.open(name);
      // A failed open is tried again at the next window rather than kept.
      detector.catch(() => fitted.detectors.delete(name));
      fitted.detectors.set(name, detector);
    }
    return detector;
  }

  private async fittedOf(tx: EntityManager, monitor: MonitorEntity): Promise<Fitted> {
    const key = `${monitor.updatedAt}|${monitor.state}|${JSON.stringify(monitor.monitoredColumns)}`;
    const known = this.fitted.get(monitor.id);
    if (known?.key === key) return known;
    const references = new Map<string, DriftReference>();
    for (const row of await this.repository.references(tx, monitor.id)) references.set(row.column, JSON.parse(row.fitted) as DriftReference);
    const fitted: Fitted = { key, references, detectors: new Map() };
    this.fitted.set(monitor.id, fitted);
    return fitted;
  }
}

/** The window's values that are not missing, as the detector takes them. */
function presentValues(column: MonitoredColumnRow, window: WindowColumn | undefined): DriftColumn & { values: { length: number } } {
  if (column.kind === 'numeric') {
    if (!(window instanceof Float64Array)) return { type: 'numeric', values: new Float64Array(0) };
    let count = 0;
    for (let i = 0; i < window.length; i++) if (!Number.isNaN(window[i])) count++;
    if (count === window.length) return { type: 'numeric', values: window };
    const values = new Float64Array(count);
    let at = 0;
    for (let i = 0; i < window.length; i++) if (!Number.isNaN(window[i])) values[at++] = window[i];
    return { type: 'numeric', values };
  }
  if (!window || window instanceof Float64Array) return { type: 'categorical', values: [] };
  return { type: 'categorical', values: window.filter((value): value is string => value !== null) };
}

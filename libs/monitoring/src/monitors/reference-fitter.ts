import { Injectable } from '@nestjs/common';
import { excerpt, FailedPreconditionError, InjectPluginInstances, InvalidArgumentError, NotFoundError, PluginInstances } from '@trellis/platform';
import type { DriftColumn, DriftDetector, DriftSummary } from '@trellis/plugin-sdk';
import type { EntityManager } from 'typeorm';
import { listed } from './column-resolution';
import { defaultDetector } from './detector-policy';
import type { ColumnKindName, MonitoredColumnRow, MonitorEntity, MonitorReferenceEntity } from './monitor.entity';
import { MonitorRepository } from './monitor.repository';

/** A column's detector and threshold as the monitor asked for them ('' and 0: the default). */
export interface DetectorChoice {
  column: string;
  detector: string;
  threshold: number;
}

/**
 * Fits a monitor's columns to their reference with their drift instances and stores what scoring
 * needs: the monitors feature calls it when a profile is ready, the windows feature when a
 * log-window reference has filled.
 */
@Injectable()
export class ReferenceFitter {
  constructor(
    private readonly repository: MonitorRepository,
    @InjectPluginInstances('drift') private readonly instances: PluginInstances<'drift'>,
  ) {}

  /**
   * Fits each column with its detector (the default policy's when its `detector` is ''), writes the
   * monitor's references, sets its monitored columns (detector and threshold filled in) and state
   * ACTIVE, and saves it in `manager`'s transaction. A column that cannot be fitted (no data, no
   * such instance, a kind or summary the instance does not take, the plugin's refusal) leaves the
   * monitor FAILED with a message naming the column and no references instead; it never throws
   * for the data.
   */
  async fit(manager: EntityManager, monitor: MonitorEntity, columns: MonitoredColumnRow[], data: ReadonlyMap<string, DriftColumn | DriftSummary>, referenceRows: number): Promise<MonitorEntity> {
    const fitted: MonitorReferenceEntity[] = [];
    const resolved: MonitoredColumnRow[] = [];
    let failure = columns.length ? '' : 'the monitor has no column to score';
    for (const column of columns) {
      try {
        const reference = data.get(column.name);
        if (!reference) throw new Error(`the reference holds no values for it`);
        const detector = column.detector || defaultDetector({ kind: column.kind, referenceRows, categories: categoriesOf(reference) });
        const instance = await this.suited(detector, column.name, column.kind);
        const threshold = thresholdOf(instance, column.threshold, column.name);
        if ('summary' in reference && !instance.summaries.includes(reference.summary)) {
          throw new Error(`drift instance "${detector}" fits from ${instance.summaries.join(', ')} summaries, not from the reference's ${reference.summary}`);
        }
        fitted.push({ monitorId: monitor.id, column: column.name, detector, fitted: JSON.stringify(await instance.fit(reference)) });
        resolved.push({ ...column, detector, threshold });
      } catch (error) {
        failure = `column "${excerpt(column.name)}": ${(error as Error).message}`;
        break;
      }
    }
    await this.repository.replaceReferences(manager, monitor.id, failure ? [] : fitted);
    Object.assign(monitor, failure ? { state: 'failed', stateMessage: `the reference could not be fitted: ${failure}`, monitoredColumns: columns } : { state: 'active', stateMessage: '', monitoredColumns: resolved });
    monitor.updatedAt = Date.now();
    await this.repository.save(manager, monitor);
    return monitor;
  }

  /**
   * Checks the detectors a monitor names before it is stored: FAILED_PRECONDITION
   * (DETECTOR_NOT_FOUND) for a name no drift instance has, (DETECTOR_UNSUITED) for one that does
   * not handle the column's kind, when `kindOf` knows it; INVALID_ARGUMENT on
   * `detectors[i].threshold` for a threshold outside the instance's measure.
   */
  async check(choices: readonly DetectorChoice[], kindOf: (column: string) => ColumnKindName | undefined = () => undefined): Promise<void> {
    for (const [index, choice] of choices.entries()) {
      if (choice.detector === '') continue;
      let instance: DriftDetector;
      try {
        instance = await this.suited(choice.detector, choice.column, kindOf(choice.column));
      } catch (error) {
        if (error instanceof NotFoundError) throw new FailedPreconditionError(`detectors[${index}]: ${error.message}`, { reason: 'DETECTOR_NOT_FOUND' });
        throw new FailedPreconditionError(`detectors[${index}]: ${(error as Error).message}`, { reason: 'DETECTOR_UNSUITED' });
      }
      try {
        thresholdOf(instance, choice.threshold, choice.column);
      } catch (error) {
        throw new InvalidArgumentError((error as Error).message, `detectors[${index}].threshold`);
      }
    }
  }

  /** The instance named `name`, opened, after checking that it handles `kind` (when known). */
  private async suited(name: string, column: string, kind: ColumnKindName | undefined): Promise<DriftDetector> {
    if (!this.instances.has(name)) throw new NotFoundError(`no drift instance is named "${excerpt(name)}"; there are ${listed(this.instances.names())}`);
    const instance = await this.instances.open(name);
    if (kind && !instance.columnTypes.includes(kind)) throw new TypeError(`drift instance "${name}" handles ${instance.columnTypes.join(' and ')} columns, and column "${excerpt(column)}" is ${kind}`);
    return instance;
  }
}

/** The threshold a column's verdicts use: its own, checked against the instance's measure, else the instance's default. */
function thresholdOf(instance: DriftDetector, threshold: number, column: string): number {
  if (threshold === 0) return instance.defaultThreshold;
  const valid = instance.measures === 'p-value' ? threshold > 0 && threshold < 1 : Number.isFinite(threshold) && threshold > 0;
  if (!valid) {
    const range = instance.measures === 'p-value' ? 'a p-value strictly between 0 and 1' : 'a distance of 0 or more';
    throw new RangeError(`the threshold of column "${excerpt(column)}" is ${threshold}, and its detector needs ${range}`);
  }
  return threshold;
}

/** Distinct categories of a categorical reference (0 for a numeric one), for the default policy. */
function categoriesOf(reference: DriftColumn | DriftSummary): number {
  if (reference.type !== 'categorical') return 0;
  if ('summary' in reference) return Object.values(reference.counts).filter((count) => count > 0).length;
  const seen = new Set<string>();
  for (let i = 0; i < reference.values.length; i++) {
    const value = reference.values[i];
    if (value !== null) seen.add(value);
  }
  return seen.size;
}

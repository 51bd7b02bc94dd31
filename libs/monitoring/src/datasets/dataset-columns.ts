import { listed, unresolved, withDetectorOverrides } from '../monitors/column-resolution';
import type { MonitoredColumnRow, MonitorEntity } from '../monitors/monitor.entity';
import type { ProfileReference } from '../monitors/profile-reference';

/**
 * The columns a monitor of a dataset scores: the numeric and categorical columns of its reference's
 * profiled file, in file order (timestamps are not compared), those the monitor asks for by name when
 * it names any. Its detectors override a column's detector and threshold (otherwise '' and 0: the
 * default policy's). FAILED_PRECONDITION (COLUMNS_UNRESOLVED) for a requested or overridden column
 * the file cannot give, or when none is left.
 */
export function resolveProfileColumns(monitor: Pick<MonitorEntity, 'requestedColumns' | 'detectors'>, reference: Pick<ProfileReference, 'columns' | 'kinds'>): MonitoredColumnRow[] {
  const columns: MonitoredColumnRow[] = [];
  for (const name of reference.columns) {
    const kind = reference.kinds.get(name);
    if (kind) columns.push({ name, kind, output: false, tensor: '', index: 0, detector: '', threshold: 0 });
  }
  const scorable = columns.map(({ name }) => name);
  const requested = monitor.requestedColumns;
  const missing = requested.filter((name) => !scorable.includes(name));
  if (missing.length) {
    unresolved(`columns names ${listed(missing)}, which the reference's file does not have as numbers or categories; it has ${listed(scorable)}`);
  }
  const chosen = requested.length ? columns.filter((column) => requested.includes(column.name)) : columns;
  if (chosen.length === 0) unresolved(`the reference's file has no numeric or categorical column to score (its columns: ${listed(reference.columns)})`);
  return withDetectorOverrides(monitor, chosen);
}

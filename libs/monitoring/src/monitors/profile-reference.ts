import type { DriftSummary } from '@trellis/plugin-sdk';
import { ColumnType, type ColumnProfile, type FileProfile } from '@trellis/proto/trellis/data/v1/profile_service_pb';
import type { ColumnKindName } from './monitor.entity';

/** A profiled file as a reference: its columns in file order, their kinds, and the summaries detectors fit from. */
export interface ProfileReference {
  /** Every column, in the file's order (timestamps included, which are not scored). */
  columns: string[];
  /** The kind of each column that can be scored. */
  kinds: Map<string, ColumnKindName>;
  summaries: Map<string, DriftSummary>;
  rows: number;
}

/**
 * The drift contract's summaries of a profiled file: a numeric column's quantiles, a string or
 * boolean column's category counts (its top categories; the rest, beyond them, are left out).
 * A column without values, or of timestamps, has no summary.
 */
export function profileReference(file: FileProfile): ProfileReference {
  const kinds = new Map<string, ColumnKindName>();
  const summaries = new Map<string, DriftSummary>();
  for (const column of file.columns) {
    const kind = kindOf(column.type);
    if (!kind) continue;
    kinds.set(column.name, kind);
    const summary = summaryOf(column, kind);
    if (summary) summaries.set(column.name, summary);
  }
  return { columns: file.columns.map((column) => column.name), kinds, summaries, rows: Number(file.rows) };
}

function kindOf(type: ColumnType): ColumnKindName | undefined {
  if (type === ColumnType.INTEGER || type === ColumnType.FLOAT) return 'numeric';
  if (type === ColumnType.STRING || type === ColumnType.BOOLEAN) return 'categorical';
  return undefined;
}

function summaryOf(column: ColumnProfile, kind: ColumnKindName): DriftSummary | undefined {
  const missing = Number(column.missing);
  if (kind === 'numeric') {
    const quantiles = column.quantiles;
    if (!quantiles || quantiles.quantiles.length < 2 || quantiles.count === 0n) return undefined;
    return { type: 'numeric', summary: 'quantiles', count: Number(quantiles.count), missing, quantiles: quantiles.quantiles.map(({ p, value }) => ({ p, value })) };
  }
  const categories = column.categories;
  if (!categories || categories.counts.length === 0) return undefined;
  return { type: 'categorical', summary: 'categories', counts: Object.fromEntries(categories.counts.map(({ value, count }) => [value, Number(count)])), missing };
}

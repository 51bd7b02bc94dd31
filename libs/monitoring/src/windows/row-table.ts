import type { ColumnKindName } from '../monitors/monitor.entity';
import type { RowChunk } from './row-chunk';
import type { WindowColumn } from './window-scorer';

/** Consecutive stored rows of a monitor, chunks joined: what windows are cut from. */
export interface RowTable {
  count: number;
  seq: Float64Array;
  answeredAtMs: Float64Array;
  /** Each row's revision id. */
  revision: string[];
  columns: Map<string, WindowColumn>;
}

/** The chunks' rows in one table, each column by name (missing where a chunk lacks it). */
export function joinChunks(chunks: readonly RowChunk[], columns: ReadonlyArray<{ name: string; kind: ColumnKindName }>): RowTable {
  const count = chunks.reduce((sum, chunk) => sum + chunk.count, 0);
  const seq = new Float64Array(count);
  const answeredAtMs = new Float64Array(count);
  const revision = new Array<string>(count);
  const joined = new Map<string, WindowColumn>(
    columns.map(({ name, kind }) => [name, kind === 'numeric' ? new Float64Array(count).fill(NaN) : new Array<string | null>(count).fill(null)]),
  );
  let at = 0;
  for (const chunk of chunks) {
    for (let row = 0; row < chunk.count; row++) {
      seq[at + row] = chunk.firstSeq + row;
      revision[at + row] = chunk.revisions[chunk.revision[row]];
    }
    answeredAtMs.set(chunk.answeredAtMs, at);
    for (const column of chunk.columns) {
      const target = joined.get(column.name);
      if (target instanceof Float64Array && column.kind === 'numeric') target.set(column.values, at);
      else if (Array.isArray(target) && column.kind === 'categorical') for (let row = 0; row < chunk.count; row++) (target as (string | null)[])[at + row] = column.values[row];
    }
    at += chunk.count;
  }
  return { count, seq, answeredAtMs, revision, columns: joined };
}

/** The rows of `table` at `indexes`, each column cut the same way. */
export function pick(table: RowTable, indexes: Uint32Array): Map<string, WindowColumn> {
  const out = new Map<string, WindowColumn>();
  for (const [name, values] of table.columns) {
    if (values instanceof Float64Array) {
      const picked = new Float64Array(indexes.length);
      for (let i = 0; i < indexes.length; i++) picked[i] = values[indexes[i]];
      out.set(name, picked);
    } else {
      out.set(name, Array.from(indexes, (index) => values[index]));
    }
  }
  return out;
}

/** Indexes of the rows whose seq is in `[firstSeq, lastSeq]`. */
export function rowsOfSeq(table: RowTable, firstSeq: number, lastSeq: number): Uint32Array {
  const indexes: number[] = [];
  for (let i = 0; i < table.count; i++) if (table.seq[i] >= firstSeq && table.seq[i] <= lastSeq) indexes.push(i);
  return Uint32Array.from(indexes);
}

/** Indexes of the rows answered in `[startMs, endMs)` numbered after `afterSeq`. */
export function rowsOfTime(table: RowTable, startMs: number, endMs: number, afterSeq = 0): Uint32Array {
  const indexes: number[] = [];
  for (let i = 0; i < table.count; i++) if (table.answeredAtMs[i] >= startMs && table.answeredAtMs[i] < endMs && table.seq[i] > afterSeq) indexes.push(i);
  return Uint32Array.from(indexes);
}

/** The earliest answer time at or after `fromMs` of the rows numbered after `afterSeq`; undefined when no row is. */
export function earliestFrom(table: RowTable, fromMs: number, afterSeq = 0): number | undefined {
  let earliest: number | undefined;
  for (let i = 0; i < table.count; i++) {
    const at = table.answeredAtMs[i];
    if (at >= fromMs && table.seq[i] > afterSeq && (earliest === undefined || at < earliest)) earliest = at;
  }
  return earliest;
}

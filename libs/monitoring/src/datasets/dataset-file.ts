import { DuckDBInstance } from '@duckdb/node-api';
import { stat } from 'node:fs/promises';
import type { MonitoredColumnRow } from '../monitors/monitor.entity';
import type { WindowColumn } from '../windows/window-scorer';

/** The tabular formats data profiles, and so the files a monitor of a dataset reads. */
export type TabularFormat = 'csv' | 'jsonl' | 'parquet';

const EXTENSIONS: Readonly<Record<string, TabularFormat>> = { '.csv': 'csv', '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.parquet': 'parquet' };

/** Characters of a category compared, as data's profiles keep them (a longer value is cut). */
const CATEGORY_CHARS = 256;

/** The tabular format a path names by its extension (any case), or `undefined` for another file. */
export function tabularFormatOf(path: string): TabularFormat | undefined {
  const dot = path.lastIndexOf('.');
  if (dot < 0 || dot < path.lastIndexOf('/')) return undefined;
  return EXTENSIONS[path.slice(dot).toLowerCase()];
}

/** A version's file read into the monitor's columns. */
export interface DatasetWindow {
  rows: number;
  /** Each monitored column's values by name: numbers with NaN for missing, or categories with null. */
  values: Map<string, WindowColumn>;
}

const quote = (identifier: string): string => `"${identifier.replaceAll('"', '""')}"`;
const literal = (text: string): string => `'${text.replaceAll("'", "''")}'`;

function source(path: string, format: TabularFormat): string {
  switch (format) {
    case 'csv':
      // As data profiles it: a row that does not fit the sniffed types is left out, not fatal.
      return `read_csv(${literal(path)}, header = true, ignore_errors = true)`;
    case 'jsonl':
      return `read_json(${literal(path)}, format = 'newline_delimited')`;
    case 'parquet':
      return `read_parquet(${literal(path)})`;
  }
}

/**
 * Reads the monitor's columns of a CSV (with a header), JSON Lines or Parquet file with DuckDB, as
 * data reads it for a profile: a numeric column's values as doubles (missing, non-finite and
 * non-numeric values NaN), a categorical one's as text (booleans `true`/`false`, cut at 256
 * characters, missing null). A column the file lacks is all missing. Throws for a file DuckDB
 * cannot read, saying why.
 */
export async function readDatasetFile(path: string, format: TabularFormat, columns: readonly MonitoredColumnRow[], memoryLimitMiB = 256): Promise<DatasetWindow> {
  const values = new Map<string, WindowColumn>();
  if ((await stat(path)).size === 0) {
    for (const column of columns) values.set(column.name, column.kind === 'numeric' ? new Float64Array(0) : []);
    return { rows: 0, values };
  }
  const instance = await DuckDBInstance.create(':memory:', { memory_limit: `${memoryLimitMiB}MB`, threads: '1', autoinstall_known_extensions: 'false' });
  const connection = await instance.connect();
  try {
    const from = source(path, format);
    const described = (await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${from}`)).getRowObjectsJS();
    const present = new Set(described.map((row) => String(row['column_name'])));
    const selects = columns.map((column, i) => {
      const c = quote(column.name);
      if (!present.has(column.name)) return `NULL AS v${i}`;
      return column.kind === 'numeric'
        ? `CASE WHEN isfinite(TRY_CAST(${c} AS DOUBLE)) THEN TRY_CAST(${c} AS DOUBLE) END AS v${i}`
        : `left(${c}::VARCHAR, ${CATEGORY_CHARS}) AS v${i}`;
    });
    const read = await connection.runAndReadAll(`SELECT ${selects.join(', ') || 'NULL'} FROM ${from}`);
    const table = read.getColumnsJS();
    const rows = read.currentRowCount;
    columns.forEach((column, i) => {
      const raw = table[i] ?? [];
      if (column.kind === 'numeric') {
        const numbers = new Float64Array(rows);
        for (let row = 0; row < rows; row++) numbers[row] = raw[row] === null || raw[row] === undefined ? NaN : Number(raw[row]);
        values.set(column.name, numbers);
      } else {
        values.set(column.name, raw.map((value) => (value === null || value === undefined ? null : String(value))));
      }
    });
    return { rows, values };
  } catch (error) {
    throw new Error(`cannot read the ${format} file: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

import { mkdtemp, rm, stat } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { literal, num, quote, rows } from './duckdb-sql';
import { type NumericColumn, summarizeNumeric } from './numeric-summary';
import type { ColumnProfile, ProfileColumnType, TableProfile, TabularFormat } from './profile.types';

/** Categories kept per string column; the rest are counted in `otherCount`. */
export const PROFILE_TOP_CATEGORIES = 50;
/** Characters of a category kept (longer values are cut, so a profile's size is bounded). */
export const PROFILE_CATEGORY_CHARS = 256;
/** Columns a profile covers at most; a wider file is refused. */
export const PROFILE_MAX_COLUMNS = 1000;

/** Limits of the engine: memory beyond `memoryLimitMiB` spills to a temporary directory. */
export interface TableProfilerOptions {
  memoryLimitMiB?: number;
  threads?: number;
  /** Where DuckDB keeps the parsed table and spills (a fresh directory under it, removed afterwards); the OS temp dir by default. */
  tempDirectory?: string;
}

/** A file that cannot be profiled (malformed JSON, a corrupt Parquet file, too many columns). */
export class ProfileError extends Error {
  override name = 'ProfileError';
}

interface Column {
  name: string;
  type: ProfileColumnType;
  /** The column of the loaded table holding its values as profiled. */
  value: string;
  /** SQL that loads it from the file. */
  load: string;
}

const CSV_BUFFER_BYTES = 4 * 1024 * 1024;

function source(path: string, format: TabularFormat): string {
  const file = literal(path);
  switch (format) {
    case 'csv':
      // Malformed rows are left out and counted (reject_errors), not fatal. DuckDB's default 32 MiB
      // read buffer per thread alone would exceed a small memory limit.
      return `read_csv(${file}, header = true, ignore_errors = true, store_rejects = true, buffer_size = ${CSV_BUFFER_BYTES})`;
    case 'jsonl':
      return `read_json(${file}, format = 'newline_delimited')`;
    case 'parquet':
      return `read_parquet(${file})`;
  }
}

function columnType(sqlType: string): ProfileColumnType {
  if (/^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$/.test(sqlType)) return 'integer';
  if (/^(FLOAT|DOUBLE|DECIMAL)/.test(sqlType)) return 'float';
  if (sqlType === 'BOOLEAN') return 'boolean';
  if (/^(DATE|TIMESTAMP)/.test(sqlType)) return 'timestamp';
  return 'string';
}

function valueExpression(name: string, type: ProfileColumnType): string {
  const c = quote(name);
  switch (type) {
    case 'integer':
      return `${c}::DOUBLE`;
    case 'float':
      return `CASE WHEN isfinite(${c}::DOUBLE) THEN ${c}::DOUBLE END`;
    case 'string':
      // strlen (bytes) is stored with the string; left() counts characters, which costs a tenth of the load.
      return `CASE WHEN strlen(${c}::VARCHAR) <= ${PROFILE_CATEGORY_CHARS} THEN ${c}::VARCHAR ELSE left(${c}::VARCHAR, ${PROFILE_CATEGORY_CHARS}) END`;
    default:
      return c;
  }
}

const isNumeric = (type: ProfileColumnType): boolean => type === 'integer' || type === 'float';

function firstPassSelects(columns: Column[]): string[] {
  return columns.flatMap(({ type, value: v }, i) => {
    const common = [`count(${v}) AS n${i}`];
    if (isNumeric(type)) {
      return [
        ...common,
        `min(${v}) AS lo${i}`,
        `max(${v}) AS hi${i}`,
        `avg(${v}) AS mean${i}`,
        `stddev_samp(${v}) AS sd${i}`,
      ];
    }
    if (type === 'boolean') return [...common, `count_if(${v})::DOUBLE AS t${i}`];
    if (type === 'timestamp') return [...common, `min(${v})::VARCHAR AS lo${i}`, `max(${v})::VARCHAR AS hi${i}`];
    return [...common, `min(${v}) AS lo${i}`, `max(${v}) AS hi${i}`];
  });
}

/**
 * Profiles a CSV (with a header), JSON Lines or Parquet file with DuckDB: schema, counts, min/max,
 * mean/std, percentiles (within (max - min) / 2000 of the exact ones, see `summarizeNumeric`) and an
 * equal-width histogram per numeric column, the most frequent categories per string column. The file is parsed once into DuckDB's compressed columnar table;
 * DuckDB keeps under `memoryLimitMiB` (default 64) of buffers and spills the rest (table, sorts) to
 * a temporary directory. Column types are what DuckDB's sniffer infers from the first 20,480 rows of
 * a CSV; a later row that does not fit, or has the wrong number of fields, is left out and counted
 * in `invalidRows`. Malformed JSON and corrupt Parquet throw a `ProfileError`.
 */
export async function profileTable(path: string, format: TabularFormat, options: TableProfilerOptions = {}): Promise<TableProfile> {
  if ((await stat(path)).size === 0) return { format, rows: 0, invalidRows: 0, columns: [] };
  const threads = options.threads ?? availableParallelism();
  const work = await mkdtemp(join(options.tempDirectory ?? tmpdir(), 'trellis-profile-'));
  // In memory, but the buffer manager moves the parsed table's blocks, like intermediates, to `spill` past the limit.
  const instance = await DuckDBInstance.create(':memory:', {
    memory_limit: `${options.memoryLimitMiB ?? 64}MB`,
    threads: String(threads),
    temp_directory: join(work, 'spill'),
    autoinstall_known_extensions: 'false',
    preserve_insertion_order: 'false',
  });
  const connection = await instance.connect();
  try {
    return await profileWith(connection, path, format, threads);
  } catch (error) {
    if (error instanceof ProfileError) throw error;
    throw new ProfileError(`cannot read the ${format} file: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(work, { recursive: true, force: true });
  }
}

async function profileWith(connection: DuckDBConnection, path: string, format: TabularFormat, threads: number): Promise<TableProfile> {
  // The file is parsed once into DuckDB's columnar table (past the memory limit it spills), each
  // column already as profiled (c0, c1, ...), so the statistics are plain scans.
  const from = source(path, format);
  const described = await rows(connection, `DESCRIBE SELECT * FROM ${from}`);
  if (described.length > PROFILE_MAX_COLUMNS) {
    throw new ProfileError(`the file has ${described.length} columns; profiles cover at most ${PROFILE_MAX_COLUMNS}`);
  }
  const columns: Column[] = described.map((d, i) => {
    const name = String(d.column_name);
    const type = columnType(String(d.column_type));
    return { name, type, value: `c${i}`, load: `${valueExpression(name, type)} AS c${i}` };
  });
  // The JSON reader takes a 32 MiB buffer per thread whatever its options: one thread keeps it under the limit.
  if (format === 'jsonl') await connection.run('SET threads = 1');
  await connection.run(`CREATE TABLE profiled AS SELECT ${columns.map((c) => c.load).join(', ')} FROM ${from}`);
  if (format === 'jsonl') await connection.run(`SET threads = ${threads}`);
  const [first] = await rows(connection, `SELECT count(*)::DOUBLE AS total, ${firstPassSelects(columns).join(', ')} FROM profiled`);
  const total = num(first.total);
  let invalidRows = 0;
  let firstInvalid: string | undefined;
  if (format === 'csv') {
    const [rejects] = await rows(
      connection,
      `SELECT count(DISTINCT line)::DOUBLE AS n, min_by(line::VARCHAR || ': ' || error_message, line) AS first FROM reject_errors`,
    );
    invalidRows = num(rejects?.n ?? 0);
    if (invalidRows > 0) firstInvalid = `line ${String(rejects.first)}`;
  }

  const profiles: ColumnProfile[] = [];
  const numeric: NumericColumn[] = [];
  const strings: { profile: ColumnProfile; value: string }[] = [];
  for (const [i, { name, type, value }] of columns.entries()) {
    const count = num(first[`n${i}`]);
    const missing = total - count;
    const profile: ColumnProfile = { name, type, count, missing };
    profiles.push(profile);
    if (count === 0) continue;
    if (isNumeric(type)) {
      Object.assign(profile, { min: num(first[`lo${i}`]), max: num(first[`hi${i}`]), mean: num(first[`mean${i}`]) });
      if (first[`sd${i}`] !== null) profile.stddev = num(first[`sd${i}`]);
      numeric.push({ profile, value });
    } else if (type === 'boolean') {
      const trues = num(first[`t${i}`]);
      const counts: Record<string, number> = {};
      if (trues > 0) counts.true = trues;
      if (count - trues > 0) counts.false = count - trues;
      profile.categories = { type: 'categorical', summary: 'categories', counts, missing };
      profile.otherCount = 0;
    } else {
      profile.min = String(first[`lo${i}`]);
      profile.max = String(first[`hi${i}`]);
      if (type === 'string') strings.push({ profile, value });
    }
  }
  if (strings.length > 0) await topCategories(connection, strings);
  if (numeric.length > 0) await summarizeNumeric(connection, numeric);
  return { format, rows: total, invalidRows, ...(firstInvalid ? { firstInvalid } : {}), columns: profiles };
}

/** The most frequent categories of string columns, ties by value, in one query. */
async function topCategories(connection: DuckDBConnection, columns: { profile: ColumnProfile; value: string }[]): Promise<void> {
  const top = await rows(
    connection,
    columns
      .map(
        ({ value }, c) =>
          `(SELECT ${c} AS c, ${value} AS v, count(*)::DOUBLE AS n FROM profiled WHERE ${value} IS NOT NULL GROUP BY v ORDER BY n DESC, v LIMIT ${PROFILE_TOP_CATEGORIES})`,
      )
      .join(' UNION ALL '),
  );
  for (const [c, { profile }] of columns.entries()) {
    const own = top.filter((r) => num(r.c) === c).sort((x, y) => num(y.n) - num(x.n) || (String(x.v) < String(y.v) ? -1 : 1));
    profile.categories = { type: 'categorical', summary: 'categories', counts: Object.fromEntries(own.map((r) => [String(r.v), num(r.n)])), missing: profile.missing };
    profile.otherCount = profile.count - own.reduce((sum, r) => sum + num(r.n), 0);
  }
}

import type { TabularFormat } from './profile.types';

const EXTENSIONS: Readonly<Record<string, TabularFormat>> = {
  '.csv': 'csv',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.parquet': 'parquet',
};

/** The tabular format a file's path names by its extension (any case), or `undefined` for a file that is not profiled. */
export function tabularFormatOf(path: string): TabularFormat | undefined {
  const dot = path.lastIndexOf('.');
  if (dot < 0 || dot < path.lastIndexOf('/')) return undefined;
  return EXTENSIONS[path.slice(dot).toLowerCase()];
}

import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { TableProfile, TabularFormat } from './profile.types';
import { profileTable, type TableProfilerOptions } from './table-profiler';

/**
 * Profiles a file given as a stream (a blob read from storage): the bytes go to a temporary file,
 * never to memory, since DuckDB reads files and Parquet needs its footer first. The file is
 * removed afterwards, whatever happens.
 */
export async function profileStream(body: Readable, format: TabularFormat, options: TableProfilerOptions = {}): Promise<TableProfile> {
  const dir = await mkdtemp(join(options.tempDirectory ?? tmpdir(), 'trellis-profile-input-'));
  try {
    const path = join(dir, `input.${format}`);
    await pipeline(body, createWriteStream(path));
    return await profileTable(path, format, options);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

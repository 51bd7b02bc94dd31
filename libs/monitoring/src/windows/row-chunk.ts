import type { ColumnKindName } from '../monitors/monitor.entity';

/**
 * Consecutive rows of one monitor as a batch appended them: row numbers `firstSeq` to
 * `firstSeq + count - 1`, each row's answer time and revision, and each column's values
 * (numeric: NaN for missing; categorical: null for missing).
 */
export interface RowChunk {
  firstSeq: number;
  count: number;
  answeredAtMs: Float64Array;
  /** Index into `revisions` per row. */
  revision: Uint16Array;
  revisions: string[];
  columns: ChunkColumn[];
}

/** One column of a chunk. */
export type ChunkColumn = { name: string; kind: 'numeric'; values: Float64Array } | { name: string; kind: 'categorical'; values: (string | null)[] };

interface Header {
  revisions: string[];
  columns: { name: string; kind: ColumnKindName }[];
  /** Categorical columns' values, in the order of `columns`. */
  categorical: (string | null)[][];
}

/**
 * A chunk as stored: a 4-byte little-endian header length, a JSON header (revision ids, column
 * names and kinds, categorical values), padding to 8 bytes, then float64 answer times, uint16
 * revision indexes padded to 8 bytes, and each numeric column as float64. Numbers stay binary
 * (a 1,000-row window of 10 columns is 80 KB read back, not 10,000 parsed JSON numbers).
 */
export function packChunk(chunk: RowChunk): Uint8Array {
  const header: Header = {
    revisions: chunk.revisions,
    columns: chunk.columns.map(({ name, kind }) => ({ name, kind })),
    categorical: chunk.columns.flatMap((column) => (column.kind === 'categorical' ? [column.values] : [])),
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const headerEnd = pad8(4 + json.byteLength);
  const revisionBytes = pad8(chunk.count * 2);
  const numeric = chunk.columns.filter((column) => column.kind === 'numeric');
  const bytes = new Uint8Array(headerEnd + chunk.count * 8 + revisionBytes + numeric.length * chunk.count * 8);
  new DataView(bytes.buffer).setUint32(0, json.byteLength, true);
  bytes.set(json, 4);
  let at = headerEnd;
  bytes.set(new Uint8Array(chunk.answeredAtMs.buffer, chunk.answeredAtMs.byteOffset, chunk.count * 8), at);
  at += chunk.count * 8;
  bytes.set(new Uint8Array(chunk.revision.buffer, chunk.revision.byteOffset, chunk.count * 2), at);
  at += revisionBytes;
  for (const column of numeric) {
    bytes.set(new Uint8Array(column.values.buffer, column.values.byteOffset, chunk.count * 8), at);
    at += chunk.count * 8;
  }
  return bytes;
}

/** The chunk `packChunk` stored, rows `firstSeq` on. */
export function unpackChunk(firstSeq: number, count: number, stored: Uint8Array): RowChunk {
  // Copied to a buffer of its own so that the float64 views are aligned.
  const bytes = new Uint8Array(stored);
  const length = new DataView(bytes.buffer).getUint32(0, true);
  const header = JSON.parse(Buffer.from(bytes.buffer, 4, length).toString('utf8')) as Header;
  let at = pad8(4 + length);
  const answeredAtMs = new Float64Array(bytes.buffer, at, count);
  at += count * 8;
  const revision = new Uint16Array(bytes.buffer, at, count);
  at += pad8(count * 2);
  let categorical = 0;
  const columns = header.columns.map(({ name, kind }): ChunkColumn => {
    if (kind === 'categorical') return { name, kind, values: header.categorical[categorical++] };
    const values = new Float64Array(bytes.buffer, at, count);
    at += count * 8;
    return { name, kind, values };
  });
  return { firstSeq, count, answeredAtMs, revision, revisions: header.revisions, columns };
}

function pad8(length: number): number {
  return Math.ceil(length / 8) * 8;
}

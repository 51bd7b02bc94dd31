import { excerpt } from '../errors';

const BLOCK = 512;
const EMPTY: Buffer = Buffer.alloc(0);

/** A regular file of an archive: its path as the archive names it, its size, and its bytes, which must be read before the next entry is asked for. */
export interface TarFile {
  path: string;
  size: number;
  body: AsyncGenerator<Buffer>;
}

/** What an entry's header says, after any pax or GNU long-name record that came before it. */
interface Header {
  name: string;
  size: number;
  type: string;
}

/** Reads exact byte counts from a stream of chunks, pulling only what it needs, so the source's backpressure reaches the sender. */
class ByteReader {
  /** Bytes read from the archive so far. */
  position = 0;
  private buffered: Buffer = EMPTY;
  private readonly chunks: AsyncIterator<Uint8Array>;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.chunks = source[Symbol.asyncIterator]();
  }

  /** The next `size` bytes; `undefined` when the stream ends before the first of them. */
  async exactly(size: number): Promise<Buffer | undefined> {
    const parts: Buffer[] = [];
    let count = 0;
    for await (const piece of this.pieces(size, true)) {
      parts.push(piece);
      count += piece.length;
    }
    return count === 0 && size > 0 ? undefined : Buffer.concat(parts, count);
  }

  /** The next `size` bytes as they come, without copying; fails when the stream ends first (or, with `maybeNone`, ends quietly before the first byte). */
  async *pieces(size: number, maybeNone = false): AsyncGenerator<Buffer> {
    let left = size;
    while (left > 0) {
      if (this.buffered.length === 0) {
        const next = await this.chunks.next();
        if (next.done) {
          if (maybeNone && left === size) return;
          throw cutShort(this.position);
        }
        this.buffered = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
        continue;
      }
      const piece = this.buffered.subarray(0, left);
      this.buffered = this.buffered.subarray(piece.length);
      this.position += piece.length;
      left -= piece.length;
      yield piece;
    }
  }

  /** Reads up to `position`, dropping the bytes. */
  async skipTo(position: number): Promise<void> {
    for await (const piece of this.pieces(position - this.position)) void piece;
  }

  /** Reads the stream to its end, dropping the bytes. */
  async drain(): Promise<void> {
    this.buffered = EMPTY;
    for (let next = await this.chunks.next(); !next.done; next = await this.chunks.next()) void next;
  }
}

/** An archive `tarFiles` will not read: cut short, malformed, or holding what is not a regular file or directory; the message names the entry or the byte. */
export class TarFormatError extends Error {
  override readonly name = 'TarFormatError';
}

function cutShort(position: number): TarFormatError {
  return new TarFormatError(`the tar archive ends at byte ${position}, before its end-of-archive blocks: it was cut short`);
}

function refuse(what: string, position: number): TarFormatError {
  return new TarFormatError(`${what} (tar header at byte ${position})`);
}

/** A NUL-terminated text field. */
function text(block: Buffer, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? field.length : end).toString('utf8');
}

/** A numeric field: octal digits, or GNU's base-256 (high bit set) for values octal cannot hold. */
function numeric(block: Buffer, offset: number, length: number, position: number): number {
  const field = block.subarray(offset, offset + length);
  if (field[0] & 0x80) {
    let value = field[0] & 0x3f;
    for (const byte of field.subarray(1)) value = value * 256 + byte;
    if (field[0] & 0x40 || !Number.isSafeInteger(value)) throw refuse('a size out of range', position);
    return value;
  }
  const digits = text(block, offset, length).trim();
  if (!/^[0-7]*$/.test(digits)) throw refuse(`a numeric field that is not octal: ${JSON.stringify(excerpt(digits))}`, position);
  return digits ? parseInt(digits, 8) : 0;
}

/** Whether the header's checksum field matches its bytes (the field counted as spaces), as an unsigned or, as old writers did, a signed sum. */
function checksumMatches(block: Buffer, position: number): boolean {
  const stored = numeric(block, 148, 8, position);
  let unsigned = 0;
  let signed = 0;
  for (let index = 0; index < BLOCK; index += 1) {
    const byte = index >= 148 && index < 156 ? 0x20 : block[index];
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return stored === unsigned || stored === signed;
}

function parseHeader(block: Buffer, position: number): Header {
  if (!checksumMatches(block, position)) throw refuse('not a tar archive: a header whose checksum does not match', position);
  const name = text(block, 0, 100);
  // Only POSIX ustar puts a prefix there; the old GNU format keeps other fields in those bytes.
  const prefix = block.subarray(257, 263).toString('latin1') === 'ustar\0' ? text(block, 345, 155) : '';
  return { name: prefix ? `${prefix}/${name}` : name, size: numeric(block, 124, 12, position), type: String.fromCharCode(block[156] || 0x30) };
}

/** The records of a pax extended header: `"<length> <key>=<value>\n"`, one after another. */
function paxRecords(data: Buffer, position: number): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const length = Number(data.subarray(at, space).toString('latin1'));
    if (space < 0 || !Number.isSafeInteger(length) || length <= space - at || at + length > data.length) throw refuse('a malformed pax record', position);
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    if (equals < 0) throw refuse('a malformed pax record', position);
    records.set(record.slice(0, equals), record.slice(equals + 1));
    at += length;
  }
  return records;
}

const ENTRY_KINDS: Readonly<Record<string, string>> = {
  '1': 'a hard link',
  '2': 'a symbolic link',
  '3': 'a character device',
  '4': 'a block device',
  '6': 'a FIFO',
};

/**
 * A path of the archive as its reader gets it: a leading `./` dropped (`tar -C dir -c .` writes
 * them), and a trailing `/` of a directory; absolute paths and `..` segments are refused, naming
 * the entry; the caller checks the rest against its own path rules.
 */
function archivePath(name: string, position: number): string {
  if (name.startsWith('/')) throw refuse(`entry "${excerpt(name)}" has an absolute path; archive the directory's contents with relative paths (tar -C dir -c .)`, position);
  if (name.split('/').includes('..')) throw refuse(`entry "${excerpt(name)}" has a ".." segment; archive paths must stay inside the directory`, position);
  let path = name;
  while (path.startsWith('./')) path = path.slice(2);
  return path === '.' ? '' : path.replace(/\/+$/, '');
}

/**
 * The regular files of a tar archive (POSIX ustar and pax, GNU long names, GNU base-256 sizes),
 * read from `source` as they are asked for: a file's bytes stream through its `body`, which the
 * caller reads before asking for the next file (whatever it leaves is skipped), so memory stays
 * flat whatever the sizes. Directories are passed over. Links, devices, FIFOs and other entry
 * kinds, absolute paths, `..` segments, bad checksums and an archive that ends before its zero
 * blocks fail with a TarFormatError naming the entry or the byte.
 */
export async function* tarFiles(source: AsyncIterable<Uint8Array>): AsyncGenerator<TarFile> {
  const reader = new ByteReader(source);
  let longName: string | undefined;
  let pax = new Map<string, string>();
  for (;;) {
    const position = reader.position;
    const block = await reader.exactly(BLOCK);
    if (!block) throw cutShort(position);
    if (block.every((byte) => byte === 0)) break;
    const header = parseHeader(block, position);
    const size = pax.has('size') ? Number(pax.get('size')) : header.size;
    if (!Number.isSafeInteger(size) || size < 0) throw refuse('a size out of range', position);
    const end = reader.position + size + ((BLOCK - (size % BLOCK)) % BLOCK);
    const name = pax.get('path') ?? longName ?? header.name;
    if (header.type === 'x' || header.type === 'L') {
      const data = (await reader.exactly(size)) ?? EMPTY;
      if (header.type === 'x') pax = paxRecords(data, position);
      else longName = text(data, 0, data.length);
      await reader.skipTo(end);
      continue;
    }
    if (header.type === 'g' || header.type === 'K') {
      // Global pax records (times, comments) name no file; a long link name belongs to a link, refused next.
      await reader.skipTo(end);
      continue;
    }
    pax = new Map();
    longName = undefined;
    const path = archivePath(name, position);
    if (header.type === '5') {
      await reader.skipTo(end);
      continue;
    }
    if (header.type !== '0' && header.type !== '7') {
      throw refuse(`entry "${excerpt(name)}" is ${ENTRY_KINDS[header.type] ?? `of type ${JSON.stringify(header.type)}`}; archive regular files and directories only`, position);
    }
    if (!path) throw refuse(`entry "${excerpt(name)}" is a file without a name`, position);
    yield { path, size, body: reader.pieces(size) };
    await reader.skipTo(end);
  }
  // What follows the first zero block is the rest of the end marker and the record's padding.
  await reader.drain();
}

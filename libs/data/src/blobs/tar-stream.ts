import type { Readable } from 'node:stream';

const BLOCK = 512;
/** The largest size an octal ustar field of 11 digits holds (8 GiB - 1); larger files get a pax size record. */
const MAX_OCTAL_SIZE = 0o77777777777;

/** One file of an archive: its path, size and a way to open its bytes when its turn comes. */
export interface TarEntry {
  path: string;
  size: number;
  mtimeMs: number;
  open(): Promise<Readable>;
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

/** A 512-byte ustar header; `name` must fit in 100 bytes (longer paths go in a pax record before it). */
function header(name: string, size: number, mtimeMs: number, type: '0' | 'x'): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, 100, 'utf8');
  block.write(octal(0o644, 8), 100, 'ascii');
  block.write(octal(0, 8), 108, 'ascii');
  block.write(octal(0, 8), 116, 'ascii');
  block.write(octal(Math.min(size, MAX_OCTAL_SIZE), 12), 124, 'ascii');
  block.write(octal(Math.floor(mtimeMs / 1000), 12), 136, 'ascii');
  block.write('        ', 148, 'ascii');
  block.write(type, 156, 'ascii');
  block.write('ustar\0', 257, 'ascii');
  block.write('00', 263, 'ascii');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(octal(sum, 7) + ' ', 148, 'ascii');
  return block;
}

/** A pax record `"<len> <key>=<value>\n"`, whose length counts its own digits. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length = String(length).length + Buffer.byteLength(body);
  return `${length}${body}`;
}

const padding = (size: number) => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

/**
 * A POSIX tar archive of `entries`, produced as it is read: each file is opened only when the
 * archive reaches it and streamed through, so memory stays flat whatever the sizes. Paths over
 * 100 bytes, and sizes over 8 GiB, go in a pax extended header. A file whose stream holds another
 * number of bytes than announced fails the archive.
 */
export async function* tarStream(entries: AsyncIterable<TarEntry>): AsyncGenerator<Buffer> {
  for await (const entry of entries) {
    const name = Buffer.from(entry.path);
    const records = (name.length > 100 ? paxRecord('path', entry.path) : '') + (entry.size > MAX_OCTAL_SIZE ? paxRecord('size', String(entry.size)) : '');
    if (records) {
      const pax = Buffer.from(records);
      yield header(`PaxHeader/${entry.path.slice(-80)}`.slice(0, 100), pax.length, entry.mtimeMs, 'x');
      yield Buffer.concat([pax, padding(pax.length)]);
    }
    yield header(name.length > 100 ? entry.path.slice(-99) : entry.path, entry.size, entry.mtimeMs, '0');
    let sent = 0;
    const body = await entry.open();
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        sent += chunk.length;
        if (sent > entry.size) break;
        yield chunk;
      }
    } finally {
      body.destroy();
    }
    if (sent !== entry.size) throw new Error(`${entry.path} holds ${sent > entry.size ? 'more than' : String(sent)} bytes in storage, not ${entry.size}`);
    yield padding(entry.size);
  }
  yield Buffer.alloc(BLOCK * 2);
}

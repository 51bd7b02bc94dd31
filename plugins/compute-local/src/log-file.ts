import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import type { JobLogLine } from '@trellis/plugin-sdk';

const CHUNK_BYTES = 64 * 1024;
/** A longer run of output without a newline is cut into lines of this many characters. */
const MAX_LINE_CHARS = 64 * 1024;

/**
 * One output file of a replica, read on from where the last read stopped. A line's `time` is when
 * the file last grew as the line was read: for a followed job, about when it was written.
 */
export class LogFile {
  private offset = 0;
  private partial = '';
  private partialTime = new Date(0);
  private readonly decoder = new StringDecoder('utf8');

  constructor(
    private readonly path: string,
    private readonly replica: number,
    private readonly stream: JobLogLine['stream'],
  ) {}

  /** The whole lines written since the last read. */
  async *read(): AsyncIterable<JobLogLine> {
    const handle = await open(this.path, 'r').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (!handle) return;
    try {
      const { size, mtimeMs } = await handle.stat();
      const mtime = new Date(mtimeMs);
      const buffer = Buffer.alloc(CHUNK_BYTES);
      while (this.offset < size) {
        const { bytesRead } = await handle.read(buffer, 0, Math.min(CHUNK_BYTES, size - this.offset), this.offset);
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        yield* this.lines(this.decoder.write(buffer.subarray(0, bytesRead)), mtime);
      }
    } finally {
      await handle.close();
    }
  }

  /** The last line when it has no newline: for once the file is complete. */
  *rest(): Iterable<JobLogLine> {
    const last = this.partial + this.decoder.end();
    this.partial = '';
    if (last !== '') yield this.line(last, this.partialTime);
  }

  private *lines(text: string, time: Date): Iterable<JobLogLine> {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    this.partialTime = time;
    for (const part of parts) yield this.line(part, time);
    while (this.partial.length > MAX_LINE_CHARS) {
      yield this.line(this.partial.slice(0, MAX_LINE_CHARS), time);
      this.partial = this.partial.slice(MAX_LINE_CHARS);
    }
  }

  private line(line: string, time: Date): JobLogLine {
    return { time, stream: this.stream, replica: this.replica, line };
  }
}

import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type JobLogLine, pause } from '@trellis/plugin-sdk';
import { REPLICA_LOG } from './batch-script';

/** How far a log file has been read: bytes, and the start of a line not yet ended (bytes: a newline never splits a UTF-8 character). */
interface FileCursor {
  offset: number;
  partial: Buffer;
}

/**
 * The lines of a job's replica log files in `dir`, in order per file. With `follow`, reads on every
 * `pollMs` until `isFinal()` said so before a read, then ends (a line without a newline at the end
 * of a file is given then).
 */
export async function* jobLogLines(dir: string, options: { follow: boolean; pollMs: number; isFinal: () => Promise<boolean>; signal: AbortSignal }): AsyncGenerator<JobLogLine> {
  const cursors = new Map<string, FileCursor>();
  for (;;) {
    const final = !options.follow || (await options.isFinal());
    yield* readNew(dir, cursors);
    if (final || options.signal.aborted) break;
    await pause(options.pollMs, options.signal);
  }
  for (const [name, cursor] of cursors) if (cursor.partial.length > 0) yield line(name, cursor.partial.toString('utf8'));
}

async function* readNew(dir: string, cursors: Map<string, FileCursor>): AsyncGenerator<JobLogLine> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((name) => REPLICA_LOG.test(name)).sort(byReplica);
  for (const name of names) {
    const cursor = cursors.get(name) ?? { offset: 0, partial: Buffer.alloc(0) };
    cursors.set(name, cursor);
    const chunk = await readFrom(join(dir, name), cursor.offset);
    if (chunk.length === 0) continue;
    cursor.offset += chunk.length;
    const bytes = Buffer.concat([cursor.partial, chunk]);
    const end = bytes.lastIndexOf(0x0a);
    cursor.partial = bytes.subarray(end + 1);
    if (end < 0) continue;
    for (const text of bytes.subarray(0, end).toString('utf8').split('\n')) yield line(name, text);
  }
}

async function readFrom(path: string, offset: number): Promise<Buffer> {
  const file = await open(path, 'r').catch(() => undefined);
  if (!file) return Buffer.alloc(0);
  try {
    const { size } = await file.stat();
    if (size <= offset) return Buffer.alloc(0);
    const buffer = Buffer.alloc(size - offset);
    const { bytesRead } = await file.read(buffer, 0, buffer.length, offset);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

function line(name: string, text: string): JobLogLine {
  const [, replica, kind] = REPLICA_LOG.exec(name) ?? [];
  return { time: new Date(), stream: kind === 'err' ? 'stderr' : 'stdout', replica: Number(replica), line: text };
}

function byReplica(a: string, b: string): number {
  const [, ra, ka] = REPLICA_LOG.exec(a) ?? [];
  const [, rb, kb] = REPLICA_LOG.exec(b) ?? [];
  return Number(ra) - Number(rb) || (ka ?? '').localeCompare(kb ?? '');
}

import { once } from 'node:events';
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import type { Writable } from 'node:stream';

/** How often the progress line on a terminal is redrawn, at most. */
const PROGRESS_EVERY_MS = 200;

/**
 * Writes `lines` (each newline-terminated) to the file `out`, or to standard output without it,
 * and resolves with how many were written. A file is written as `<out>.partial` and renamed when
 * the last line is in, so a failed export leaves no file that looks complete. When standard error
 * is a terminal, it shows the count as lines arrive.
 */
export async function writeJsonLines(lines: AsyncIterable<string>, out?: string): Promise<number> {
  const partial = out ? `${out}.partial` : undefined;
  const sink: Writable = partial ? createWriteStream(partial, { mode: 0o600 }) : process.stdout;
  const progress = process.stderr.isTTY ? new ProgressLine() : undefined;
  let count = 0;
  try {
    for await (const line of lines) {
      if (!sink.write(line)) await once(sink, 'drain');
      count += 1;
      progress?.show(count);
    }
    if (partial && out) {
      await new Promise<void>((resolve, reject) => sink.end((error?: Error | null) => (error ? reject(error) : resolve())));
      renameSync(partial, out);
    }
  } catch (error) {
    if (partial) {
      sink.destroy();
      rmSync(partial, { force: true });
    }
    throw error;
  } finally {
    progress?.finish(count);
  }
  return count;
}

/** `N lines exported` on one line of standard error, redrawn in place. */
class ProgressLine {
  private shownAt = 0;

  show(count: number): void {
    const now = Date.now();
    if (now - this.shownAt < PROGRESS_EVERY_MS) return;
    this.shownAt = now;
    process.stderr.write(`\r${count} lines exported`);
  }

  finish(count: number): void {
    if (this.shownAt > 0) process.stderr.write(`\r${count} lines exported\n`);
  }
}

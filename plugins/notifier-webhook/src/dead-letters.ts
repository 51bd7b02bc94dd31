import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { WebhookAlertBody } from './alert-body';

/** The file in an instance's data directory that holds its dead letters, one JSON object a line. */
export const DEAD_LETTER_FILE = 'dead-letters.jsonl';

/** An alert the receiver never accepted: what was sent, how often, what the receiver last answered, and when it was given up. */
export interface DeadLetter {
  alert: WebhookAlertBody;
  /** The receiver's host (never its path, which for many webhooks is a secret). */
  receiver: string;
  attempts: number;
  /** The HTTP status of the last answer; absent when the last try got none (network error, timeout). */
  lastStatus?: number;
  /** The last answer's excerpt or the last error. */
  lastError: string;
  /** When delivery was given up, ISO 8601. */
  at: string;
}

/**
 * The dead letters of the instance whose data directory is `dataDir`, oldest first. A line a crash
 * cut short is skipped: every complete record before and after it is returned.
 */
export async function readDeadLetters(dataDir: string): Promise<DeadLetter[]> {
  const text = await readFile(join(dataDir, DEAD_LETTER_FILE), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  return text.split('\n').flatMap((line) => {
    try {
      return line ? [JSON.parse(line) as DeadLetter] : [];
    } catch {
      return [];
    }
  });
}

/** Appends dead letters to an instance's file, one at a time, each synced to disk before `append` resolves. */
export class DeadLetterFile {
  private last: Promise<void> = Promise.resolve();

  constructor(private readonly dataDir: string) {}

  append(letter: DeadLetter): Promise<void> {
    const appended = this.last.then(() => this.write(letter));
    this.last = appended.catch(() => undefined);
    return appended;
  }

  private async write(letter: DeadLetter): Promise<void> {
    const file = await open(join(this.dataDir, DEAD_LETTER_FILE), 'a+');
    try {
      // A line a crash cut short must not swallow the next record: start on a fresh line.
      const { size } = await file.stat();
      const lastByte = Buffer.alloc(1);
      if (size > 0) await file.read(lastByte, 0, 1, size - 1);
      const line = `${size > 0 && lastByte[0] !== 0x0a ? '\n' : ''}${JSON.stringify(letter)}\n`;
      await file.appendFile(line, 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
  }
}

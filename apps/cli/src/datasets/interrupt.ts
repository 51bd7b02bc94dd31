import { EXIT } from '../exit-codes';
import type { Progress } from './transfer-progress';

/**
 * Runs a transfer that Ctrl-C may stop: the bar is ended cleanly, a line says that what arrived is
 * kept and how to go on, and the process exits 130 (as a shell reports SIGINT).
 */
export async function interruptible<T>(progress: Progress, resumeHint: string, work: () => Promise<T>): Promise<T> {
  const stop = () => {
    progress.stop();
    process.stderr.write(`interrupted: ${resumeHint}\n`);
    process.exit(EXIT.interrupted);
  };
  process.once('SIGINT', stop);
  try {
    return await work();
  } finally {
    process.removeListener('SIGINT', stop);
    progress.stop();
  }
}

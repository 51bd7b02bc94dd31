import { CommanderError } from 'commander';
import { EXIT, describeFailure } from './exit-codes';
import { createProgram } from './program';

/** Runs `trellis` with the process's arguments and exits with a code scripts can rely on (exit-codes.ts). */
async function main(): Promise<void> {
  const program = createProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander printed the usage error or the help already.
      process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    const { exitCode, message } = describeFailure(error);
    process.stderr.write(`trellis: ${message}\n`);
    process.exitCode = exitCode;
  }
}

void main();

import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

/**
 * The shell each replica runs in, as `sh -c WRAPPER <job dir> <replica> <command...>`. It records
 * its pid (its process group's id) with O_EXCL (`set -C`), so that of two wrappers of one replica
 * (a restarted instance that could not know whether the last one started it) only one runs the
 * command; it runs nothing once the job is final; it sends the command's output to the replica's
 * files; and it writes the command's exit code when the command ends, so an instance started later
 * still learns it. Its stdin and stderr are /dev/null already (spawn's `stdio: 'ignore'`).
 */
const WRAPPER = [
  'r="$0/replica-$1"',
  'shift',
  'set -C',
  'echo $$ >"$r.pid" || exit 0',
  'set +C',
  '[ -e "$0/final.json" ] && exit 0',
  'exec >>"$r.stdout" 2>>"$r.stderr"',
  '"$@"',
  'echo $? >"$r.exit"',
].join('\n');

/** Starts a replica's wrapper as the leader of a new process group, which outlives this process. */
export function startReplica(jobDir: string, replica: number, command: readonly string[], env: Readonly<Record<string, string>>): ChildProcess {
  const child = spawn('/bin/sh', ['-c', WRAPPER, jobDir, String(replica), ...command], { cwd: join(jobDir, 'work'), env, detached: true, stdio: 'ignore' });
  child.unref();
  return child;
}

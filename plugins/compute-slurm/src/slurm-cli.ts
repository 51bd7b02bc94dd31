import { execFile } from 'node:child_process';
import { type SlurmClient, SlurmError, type SlurmJob, type SlurmNode, type SlurmSubmission, errorsOf, readJob, readNode, recordsOf } from './slurm-client';

/** squeue --json of a busy cluster runs to megabytes. */
const MAX_OUTPUT = 512 * 1024 * 1024;
const TIMEOUT_MS = 60_000;

/**
 * Slurm through its commands on this host: `sbatch --parsable`, `squeue --json`, `sinfo --json`,
 * `scontrol show job -o` and `ping`, `scancel`. In 22.05 `squeue --json` ignores `--jobs`, so one
 * job is read with scontrol; concurrent listings share one squeue.
 */
export class SlurmCli implements SlurmClient {
  private listing?: Promise<SlurmJob[]>;

  constructor(private readonly slurmConf: string | undefined) {}

  async submit(submission: SlurmSubmission): Promise<string> {
    const args = [
      '--parsable',
      `--job-name=${submission.name}`,
      `--comment=${submission.comment}`,
      `--chdir=${submission.workDir}`,
      `--output=${submission.output}`,
      '--no-requeue',
      '--export=ALL',
      `--ntasks=${submission.tasks}`,
      `--cpus-per-task=${submission.cpusPerTask}`,
      `--mem-per-cpu=${submission.memoryPerCpuMiB}M`,
    ];
    if (submission.gpusPerTask) args.push(`--gpus-per-task=${submission.gpusPerTask}`);
    for (const option of ['partition', 'account', 'qos'] as const) if (submission[option]) args.push(`--${option}=${submission[option]}`);
    // --export=ALL hands the job the environment sbatch runs with: exactly the job's.
    const stdout = await this.run('sbatch', args, { ...submission.environment, ...this.confEnv() }, submission.script);
    return stdout.trim().split(';')[0];
  }

  /** `scontrol show job -o`: one job, without listing them all. */
  async job(id: string): Promise<SlurmJob | undefined> {
    const line = await this.run('scontrol', ['show', 'job', '-o', id]).catch((error: Error) => {
      if (/Invalid job id specified/.test(error.message)) return undefined;
      throw error;
    });
    return line === undefined ? undefined : readScontrolJob(line);
  }

  jobs(): Promise<SlurmJob[]> {
    this.listing ??= this.json('squeue', ['--json'])
      .then((answer) => recordsOf(answer, 'jobs').map(readJob))
      .finally(() => (this.listing = undefined));
    return this.listing;
  }

  /** `squeue -o '%i %k'`: a few times faster than `squeue --json`, which loads its serializer each run. */
  async comments(): Promise<{ id: string; comment: string }[]> {
    const stdout = await this.run('squeue', ['--noheader', '--states=all', '--format=%i %k']);
    return stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => ({ id: line.slice(0, line.indexOf(' ')), comment: line.slice(line.indexOf(' ') + 1) }));
  }

  async cancel(id: string): Promise<void> {
    await this.run('scancel', [id]);
  }

  async nodes(): Promise<SlurmNode[]> {
    return recordsOf(await this.json('sinfo', ['--json']), 'nodes').map(readNode);
  }

  async ping(): Promise<void> {
    const stdout = await this.run('scontrol', ['ping']);
    if (!/ is UP/.test(stdout)) throw new SlurmError(`slurmctld does not answer: ${stdout.trim()}`);
  }

  private async json(command: string, args: string[]): Promise<Record<string, unknown>> {
    const answer = JSON.parse(await this.run(command, args)) as Record<string, unknown>;
    const errors = errorsOf(answer);
    if (errors) throw new SlurmError(`${command} ${args.join(' ')}: ${errors}`);
    return answer;
  }

  private confEnv(): Record<string, string> {
    return this.slurmConf ? { SLURM_CONF: this.slurmConf } : {};
  }

  private run(command: string, args: string[], env: NodeJS.ProcessEnv = { ...process.env, ...this.confEnv() }, stdin?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = execFile(command, args, { env, maxBuffer: MAX_OUTPUT, timeout: TIMEOUT_MS }, (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const said = (stderr.trim() || stdout.trim() || error.message).replace(/^\w+: error: /gm, '').split('\n').join('; ');
        reject(new SlurmError(`${command} failed: ${said}`, { cause: error }));
      });
      // A command that exits without reading its input closes the pipe: its exit status tells what happened.
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(stdin ?? '');
    });
  }
}

/** One line of `scontrol show job -o`: `Key=Value` pairs; times are the controller's local time. */
export function readScontrolJob(line: string): SlurmJob {
  const field = (key: string) => new RegExp(`(?:^| )${key}=(\\S*)`).exec(line)?.[1] ?? '';
  const time = (key: string) => {
    const value = Date.parse(field(key));
    return Number.isNaN(value) ? 0 : Math.floor(value / 1000);
  };
  const [code, signal] = field('ExitCode').split(':').map(Number);
  return {
    id: field('JobId'),
    state: field('JobState'),
    reason: field('Reason'),
    description: '',
    waitStatus: Number.isInteger(code) && Number.isInteger(signal) ? (code << 8) | signal : undefined,
    comment: field('Comment') === '(null)' ? '' : field('Comment'),
    startTime: time('StartTime'),
    endTime: time('EndTime'),
  };
}

import { execFile } from 'node:child_process';
import { type SlurmClient, SlurmError, type SlurmJob, type SlurmNode, type SlurmSubmission, errorsOf, readJob, readNode, recordsOf } from './slurm-client';

/** squeue --json of a busy cluster runs to megabytes. */
const MAX_OUTPUT = 512 * 1024 * 1024;
const TIMEOUT_MS = 60_000;

/**
 * Slurm through its commands on this host: `sbatch --parsable`, `squeue --json`, `sinfo --json`,
 * `scancel`, `scontrol ping`. In 22.05 `squeue --json` ignores `--jobs`, so a job is looked up in
 * the whole list; concurrent lookups share one squeue.
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

  async job(id: string): Promise<SlurmJob | undefined> {
    return (await this.jobs()).find((job) => job.id === id);
  }

  jobs(): Promise<SlurmJob[]> {
    this.listing ??= this.json('squeue', ['--json'])
      .then((answer) => recordsOf(answer, 'jobs').map(readJob))
      .finally(() => (this.listing = undefined));
    return this.listing;
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
      child.stdin?.end(stdin ?? '');
    });
  }
}

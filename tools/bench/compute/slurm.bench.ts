// Submit-to-running of a trivial job through compute-slurm (cli and rest modes) against the same
// job submitted by hand: `sbatch --parsable`, then `squeue` polled at the same interval until the
// job runs. All on one fresh test cluster (@trellis/plugin-compute-slurm/testing), rounds
// interleaved so each way sees the same load; each job is cancelled once seen running.
// slurmctld starts pending batch jobs on a tick of about a second, so each submission waits a
// random part of a second first: every way then meets the tick at a uniformly random phase.
//
//   node tools/bench/run.cjs tools/bench/compute/slurm.bench.ts [--rounds 15] [--poll-ms 100]
//
// "Running" for `true` means first seen running or already ended (it may end between two polls).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { promisify } from 'node:util';
import type { ComputeBackend, JobSpec } from '@trellis/plugin-sdk';
import { createPluginInstance } from '@trellis/plugin-sdk/testing';
import computeSlurm from '@trellis/plugin-compute-slurm';
import { type SlurmCluster, startSlurmCluster } from '@trellis/plugin-compute-slurm/testing';

const run = promisify(execFile);

function argument(name: string, fallback: string): number {
  const i = process.argv.indexOf(`--${name}`);
  return Number(i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback);
}

const rounds = argument('rounds', '15');
const pollMs = argument('poll-ms', '100');
const RESOURCES = { cpus: 1, memoryBytes: 64 * 2 ** 20 };
const STARTED = new Set(['RUNNING', 'COMPLETING', 'COMPLETED', 'FAILED', 'CANCELLED']);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How long the submission call took, and how long until the job was seen running, in ms. */
interface Sample {
  submit: number;
  running: number;
}

/** sbatch, then `squeue -j <id>` every pollMs until the job has started. */
async function byHand(cluster: SlurmCluster, command: string): Promise<Sample> {
  const env = { ...process.env, SLURM_CONF: cluster.slurmConf };
  await sleep(Math.random() * 1000);
  const started = performance.now();
  const { stdout } = await run('sbatch', ['--parsable', '--no-requeue', '--ntasks=1', '--cpus-per-task=1', '--mem-per-cpu=64M', `--chdir=${cluster.jobsDir}`, '--output=/dev/null', `--wrap=${command}`], { env });
  const jobId = stdout.trim();
  const submit = performance.now() - started;
  for (;;) {
    const state = (await run('squeue', ['-h', '-t', 'all', '-j', jobId, '-o', '%T'], { env })).stdout.trim();
    if (STARTED.has(state)) break;
    await sleep(pollMs);
  }
  const running = performance.now() - started;
  await run('scancel', [jobId], { env });
  return { submit, running };
}

/** submit, then watch until the job is no longer pending. */
async function throughPlugin(compute: ComputeBackend, command: string[], round: number): Promise<Sample> {
  const spec: JobSpec = { name: 'bench', command, resources: RESOURCES };
  await sleep(Math.random() * 1000);
  const started = performance.now();
  const { jobId } = await compute.submit(spec, { idempotencyKey: `bench-${process.pid}-${round}-${command[0]}-${Math.random().toString(36).slice(2)}` });
  const submit = performance.now() - started;
  for await (const status of compute.watch(jobId)) if (status.state !== 'pending') break;
  const running = performance.now() - started;
  await compute.cancel(jobId);
  return { submit, running };
}

function mean(values: number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function main(): Promise<void> {
  const cluster = await startSlurmCluster();
  try {
    const common = { workDir: cluster.jobsDir, gpuMemoryBytes: { tesla: 2 ** 34 }, pollIntervalMs: pollMs };
    const cli = await createPluginInstance(computeSlurm, { mode: 'cli', slurmConf: cluster.slurmConf, ...common });
    const rest = await createPluginInstance(computeSlurm, { mode: 'rest', restUrl: cluster.restUrl, userName: 'root', jwtKey: await readFile(cluster.jwtKeyPath, 'utf8'), ...common });
    console.log(`compute-slurm submit-to-running, ${rounds} rounds, poll ${pollMs} ms, Slurm 22.05.8 one node, ${cpus().length} CPUs, load ${loadavg()[0].toFixed(1)}, node ${process.version}`);
    console.log('job       way       submit call ms  to running ms  (mean)  running / by hand');
    for (const command of [['true'], ['sleep', '5']]) {
      const samples: Record<'by hand' | 'cli' | 'rest', Sample[]> = { 'by hand': [], cli: [], rest: [] };
      for (let round = 0; round < rounds; round++) {
        samples['by hand'].push(await byHand(cluster, command.join(' ')));
        samples.cli.push(await throughPlugin(cli, command, round));
        samples.rest.push(await throughPlugin(rest, command, round));
      }
      const baseline = median(samples['by hand'].map((s) => s.running));
      for (const [way, list] of Object.entries(samples)) {
        const running = median(list.map((s) => s.running));
        const cells = [median(list.map((s) => s.submit)).toFixed(0).padStart(14), running.toFixed(0).padStart(13), `(${mean(list.map((s) => s.running)).toFixed(0)})`.padStart(7), (running / baseline).toFixed(2).padStart(17)];
        console.log(`${command.join(' ').padEnd(9)} ${way.padEnd(8)}  ${cells.join('  ')}`);
      }
    }
    console.log(`load at the end ${loadavg()[0].toFixed(1)}`);
  } finally {
    await cluster.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

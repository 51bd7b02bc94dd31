// Submit-to-running of a trivial job through compute-slurm (cli and rest modes) against the same
// job submitted by hand: `sbatch --parsable`, then `squeue` polled at the same interval until the
// job runs. All on one fresh test cluster (@trellis/plugin-compute-slurm/testing), rounds
// interleaved so each way sees the same load; each job is cancelled once seen running.
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

/** sbatch, then `squeue -j <id>` every pollMs until the job has started; returns ms. */
async function byHand(cluster: SlurmCluster, command: string): Promise<number> {
  const env = { ...process.env, SLURM_CONF: cluster.slurmConf };
  const started = performance.now();
  const { stdout } = await run('sbatch', ['--parsable', '--no-requeue', '--ntasks=1', '--cpus-per-task=1', '--mem-per-cpu=64M', `--chdir=${cluster.jobsDir}`, '--output=/dev/null', `--wrap=${command}`], { env });
  const jobId = stdout.trim();
  for (;;) {
    const state = (await run('squeue', ['-h', '-t', 'all', '-j', jobId, '-o', '%T'], { env })).stdout.trim();
    if (STARTED.has(state)) break;
    await sleep(pollMs);
  }
  const elapsed = performance.now() - started;
  await run('scancel', [jobId], { env });
  return elapsed;
}

/** submit, then watch until the job is no longer pending; returns ms. */
async function throughPlugin(compute: ComputeBackend, command: string[], round: number): Promise<number> {
  const spec: JobSpec = { name: 'bench', command, resources: RESOURCES };
  const started = performance.now();
  const { jobId } = await compute.submit(spec, { idempotencyKey: `bench-${process.pid}-${round}-${command[0]}-${Math.random().toString(36).slice(2)}` });
  for await (const status of compute.watch(jobId)) if (status.state !== 'pending') break;
  const elapsed = performance.now() - started;
  await compute.cancel(jobId);
  return elapsed;
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
    console.log('job        by hand ms  cli ms  rest ms  cli/hand  rest/hand');
    for (const command of [['true'], ['sleep', '5']]) {
      const times = { hand: [] as number[], cli: [] as number[], rest: [] as number[] };
      for (let round = 0; round < rounds; round++) {
        times.hand.push(await byHand(cluster, command.join(' ')));
        times.cli.push(await throughPlugin(cli, command, round));
        times.rest.push(await throughPlugin(rest, command, round));
      }
      const [hand, viaCli, viaRest] = [median(times.hand), median(times.cli), median(times.rest)];
      const cells = [hand, viaCli, viaRest].map((ms) => ms.toFixed(0).padStart(7));
      console.log(`${command.join(' ').padEnd(10)} ${cells[0]}   ${cells[1]}  ${cells[2]}  ${(viaCli / hand).toFixed(2).padStart(8)}  ${(viaRest / hand).toFixed(2).padStart(9)}`);
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

// compute-local's start overhead: from the call that starts a job to the moment its command runs,
// against a bare child_process.spawn of the same command in the same run. Two commands, each of
// which creates a marker file first thing, so the file's modification time (nanoseconds, set by the
// kernel) is when the command ran, for both arms alike: a trivial one, `sh -c ': > "$1"' sh <marker>`,
// and the start of a Python program, `/usr/bin/python3 -c 'import sys; open(sys.argv[1], "w")' <marker>`:
// - compute-local: `submit` (validation, a free port for MASTER_PORT, the job directory written and
//   renamed into place, the replica's wrapper spawned as its own process group, which records its
//   pid and then runs the command);
// - baseline: `spawn('sh', [...])` with stdio ignored;
// - reference: a bare spawn of the command under a parent shell that writes its exit code
//   (`sh -c '"$@"; echo $? > <file>' ...`), the least any design pays whose exit codes outlive the
//   Trellis process: it tells the plugin's own work from the cost of that second process.
// The bench watches the job (to wait for its end) only after the command ran, as the baseline waits
// for its child's exit without work of its own meanwhile.
// The arms alternate, one job at a time (each waited to its end), RUNS rounds (default 100); the
// figures are medians and 90th percentiles over the rounds.
// Run: node tools/bench/run.cjs tools/bench/compute/local.bench.ts
import { spawn } from 'node:child_process';
import { existsSync, watch } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type ComputeBackend, noopLogger } from '@trellis/plugin-sdk';
import computeLocal from '@trellis/plugin-compute-local';

const RUNS = Number(process.env.RUNS ?? 100);
const WARMUP = 5;

const now = () => performance.timeOrigin + performance.now();
const COMMANDS: Record<string, (marker: string) => string[]> = {
  'sh -c': (marker) => ['sh', '-c', ': > "$1"', 'sh', marker],
  python3: (marker) => ['/usr/bin/python3', '-c', 'import sys; open(sys.argv[1], "w")', marker],
};

async function markedAt(marker: string): Promise<number> {
  return (await stat(marker)).mtimeMs;
}

async function bare(command: string[], exitFile?: string): Promise<number> {
  const marker = command[command.length - 1] as string;
  const [program, ...args] = (exitFile ? ['/bin/sh', '-c', '"$@"; echo $? > "$0"', exitFile, ...command] : command) as [string, ...string[]];
  const started = now();
  const child = spawn(program, args, { stdio: 'ignore' });
  await new Promise((resolve, reject) => child.once('exit', resolve).once('error', reject));
  return (await markedAt(marker)) - started;
}

/** Resolves once `path` exists: an inotify event, so that waiting costs no CPU while the job starts. */
async function created(path: string): Promise<void> {
  const events = watch(dirname(path));
  try {
    if (!existsSync(path)) await new Promise<void>((resolve) => events.on('change', () => existsSync(path) && resolve()));
  } finally {
    events.close();
  }
}

async function viaComputeLocal(compute: ComputeBackend, command: string[], key: string): Promise<number> {
  const marker = command[command.length - 1] as string;
  const started = now();
  const marked = created(marker);
  const { jobId } = await compute.submit({ name: 'bench', command, resources: { cpus: 1, memoryBytes: 2 ** 20 } }, { idempotencyKey: key });
  // The caller's watch starts once the command ran: the figure is the plugin's own start work.
  await marked;
  for await (const status of compute.watch(jobId)) if (status.state === 'failed') throw new Error(`the bench job failed: ${status.message}`);
  return (await markedAt(marker)) - started;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-compute-local-'));
  const config = computeLocal.configSchema.parse({ workDir: join(dir, 'work'), nvidiaSmi: 'no-such-nvidia-smi' });
  const compute = await computeLocal.create({ instanceName: 'bench', logger: noopLogger, dataDir: dir, signal: new AbortController().signal }, config);
  const ms = (value: number) => `${value.toFixed(2)} ms`.padStart(10);
  console.log(`compute-local start overhead, ${RUNS} rounds after ${WARMUP} warm-up, ${cpus().length} CPUs (${cpus()[0]?.model}), load ${loadavg()[0]?.toFixed(2)}, Node ${process.version}`);
  console.log('command   arm                       median        p90   median / bare');
  try {
    for (const [name, command] of Object.entries(COMMANDS)) {
      const times = { bare: [] as number[], wrapped: [] as number[], local: [] as number[] };
      for (let round = 0; round < WARMUP + RUNS; round++) {
        const b = await bare(command(join(dir, `${name}-bare-${round}`)));
        const w = await bare(command(join(dir, `${name}-wrapped-${round}`)), join(dir, `${name}-exit-${round}`));
        const l = await viaComputeLocal(compute, command(join(dir, `${name}-local-${round}`)), `${name}-${round}`.replace(/\W/g, '-'));
        if (round < WARMUP) continue;
        times.bare.push(b);
        times.wrapped.push(w);
        times.local.push(l);
      }
      const bareMedian = quantile(times.bare, 0.5);
      const row = (arm: string, values: number[], note = '') =>
        console.log(`${name.padEnd(9)} ${arm.padEnd(22)}${ms(quantile(values, 0.5))} ${ms(quantile(values, 0.9))}   ${(quantile(values, 0.5) / bareMedian).toFixed(2)}x${note}`);
      row('bare spawn', times.bare);
      row('bare spawn + sh parent', times.wrapped);
      row('compute-local', times.local, ' (target: at most 1.2x)');
    }
  } finally {
    await compute.close?.();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

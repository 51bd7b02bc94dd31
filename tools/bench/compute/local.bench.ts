// compute-local's start overhead: from the call that starts a job to the moment its command runs,
// against a bare child_process.spawn of the same command in the same run. Each command writes the
// time it runs at into a marker file first thing, from a precise clock (a file's modification time
// is not: Linux may stamp it with a clock that lags by up to a scheduler tick, several ms here):
// a trivial one, `bash -c 'printf %s "$EPOCHREALTIME" > "$1"'`, and the start of a Python program,
// `python3 -c 'import sys, time; open(sys.argv[1], "w").write(repr(time.time()))'`. Three arms:
// - bare: `spawn(command)` with stdio ignored;
// - floor: a bare spawn of the command under a parent shell that writes its exit code
//   (`sh -c '"$@"; echo $? > <file>' ...`), the least any design pays whose exit codes outlive the
//   Trellis process, since only a process's parent learns its exit code;
// - compute-local: `submit` (checks, a free port for MASTER_PORT, the job directory written and
//   renamed into place, the replica's wrapper spawned as its own process group, which records its
//   pid and then runs the command).
// The caller's watch of the job starts once the command ran, as the bare arms wait for their child's
// exit without work of their own meanwhile; each job is waited until its processes are gone and its
// files written (cancel of a final job waits for that), so no arm pays for another's bookkeeping.
// Each round runs every arm once, one job at a time, in an order that rotates from round to round;
// RUNS rounds (default 100) after 5 warm-up. Figures: median and 90th percentile over the rounds,
// and compute-local's own share: its time less the floor's of the same round.
// Run: node tools/bench/run.cjs tools/bench/compute/local.bench.ts
import { spawn } from 'node:child_process';
import { existsSync, watch } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type ComputeBackend, noopLogger } from '@trellis/plugin-sdk';
import computeLocal from '@trellis/plugin-compute-local';

const RUNS = Number(process.env.RUNS ?? 100);
const WARMUP = 5;

const now = () => performance.timeOrigin + performance.now();
const COMMANDS: Record<string, (marker: string) => string[]> = {
  'bash -c': (marker) => ['/bin/bash', '-c', 'printf %s "$EPOCHREALTIME" > "$1"', 'bash', marker],
  python3: (marker) => ['/usr/bin/python3', '-c', 'import sys, time; open(sys.argv[1], "w").write(repr(time.time()))', marker],
};

/** When the command that wrote `marker` ran, in ms since the epoch. */
async function ranAt(marker: string): Promise<number> {
  return Number((await readFile(marker, 'utf8')).replace(',', '.')) * 1000;
}

async function exited(program: string, args: string[]): Promise<void> {
  const child = spawn(program, args, { stdio: 'ignore' });
  await new Promise((resolve, reject) => child.once('exit', resolve).once('error', reject));
}

async function bare(command: string[]): Promise<number> {
  const [program, ...args] = command as [string, ...string[]];
  const started = now();
  await exited(program, args);
  return (await ranAt(command[command.length - 1] as string)) - started;
}

async function underShell(command: string[], exitFile: string): Promise<number> {
  const started = now();
  await exited('/bin/sh', ['-c', '"$@"; echo $? > "$0"', exitFile, ...command]);
  return (await ranAt(command[command.length - 1] as string)) - started;
}

/** Resolves once `path` exists: an inotify event, so that waiting costs no CPU while the job starts. */
function created(path: string): Promise<void> {
  const events = watch(dirname(path));
  return new Promise<void>((resolve) => {
    const seen = () => existsSync(path) && resolve();
    events.on('change', seen);
    seen();
  }).finally(() => events.close());
}

async function viaComputeLocal(compute: ComputeBackend, command: string[], key: string): Promise<number> {
  const marker = command[command.length - 1] as string;
  const marked = created(marker);
  const started = now();
  const { jobId } = await compute.submit({ name: 'bench', command, resources: { cpus: 1, memoryBytes: 2 ** 20 } }, { idempotencyKey: key });
  await marked;
  for await (const status of compute.watch(jobId)) if (status.state === 'failed') throw new Error(`the bench job failed: ${status.message}`);
  await compute.cancel(jobId);
  return (await ranAt(marker)) - started;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-compute-local-'));
  const config = computeLocal.configSchema.parse({ workDir: join(dir, 'work'), nvidiaSmi: 'no-such-nvidia-smi' });
  const compute = await computeLocal.create({ instanceName: 'bench', logger: noopLogger, dataDir: dir, signal: new AbortController().signal }, config);
  const load = () => loadavg().map((value) => value.toFixed(2)).join(' ');
  const ms = (value: number) => `${value.toFixed(2)} ms`.padStart(10);
  console.log(`compute-local start overhead, ${RUNS} rounds after ${WARMUP} warm-up, ${cpus().length} CPUs (${cpus()[0]?.model}), Node ${process.version}`);
  console.log(`load average at the start: ${load()}`);
  console.log('command   arm                       median        p90   median / bare   / floor');
  try {
    for (const [name, command] of Object.entries(COMMANDS)) {
      const slug = name.replace(/\W/g, '-');
      const file = (arm: string, round: number) => join(dir, `${slug}-${arm}-${round}`);
      const arms = {
        bare: (round: number) => bare(command(file('bare', round))),
        floor: (round: number) => underShell(command(file('floor', round)), file('exit', round)),
        local: (round: number) => viaComputeLocal(compute, command(file('local', round)), `${slug}-${round}`),
      };
      const order = Object.keys(arms) as (keyof typeof arms)[];
      const times = { bare: [] as number[], floor: [] as number[], local: [] as number[] };
      for (let round = 0; round < WARMUP + RUNS; round++) {
        for (let i = 0; i < order.length; i++) {
          const arm = order[(round + i) % order.length] as keyof typeof arms;
          const took = await arms[arm](round);
          if (round >= WARMUP) times[arm].push(took);
        }
      }
      const bareMedian = quantile(times.bare, 0.5);
      const floorMedian = quantile(times.floor, 0.5);
      const row = (arm: string, values: number[], note = '') => {
        const median = quantile(values, 0.5);
        console.log(`${name.padEnd(9)} ${arm.padEnd(22)}${ms(median)} ${ms(quantile(values, 0.9))}   ${(median / bareMedian).toFixed(2)}x${' '.repeat(9)}${(median / floorMedian).toFixed(2)}x${note}`);
      };
      row('bare spawn', times.bare);
      row('floor: sh parent', times.floor);
      row('compute-local', times.local, '   (target: at most 1.2x bare)');
      // Paired by round, so that the load's swings between rounds cancel out.
      const own = times.local.map((local, round) => local - (times.floor[round] as number));
      console.log(`${name.padEnd(9)} compute-local - floor, paired by round: median ${quantile(own, 0.5).toFixed(2)} ms, p90 ${quantile(own, 0.9).toFixed(2)} ms`);
    }
    console.log(`load average at the end: ${load()}`);
  } finally {
    await compute.close?.();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

// A window of 100,000 rows x 100 numeric columns scored against fitted references (issue 17: time
// and peak RSS, target under 2 s): drift-stats with `wasserstein` (the default policy's detector
// for a reference above 1,000 rows), `ks` and `psi`, against the same scoring with scipy and numpy
// (Debian's python3-scipy and python3-numpy: wasserstein_distance, ks_2samp, PSI over deciles),
// timed in the same run, round by round.
//
//   node tools/bench/run.cjs tools/bench/monitoring/window.bench.ts [--rows 100000] [--columns 100] [--runs 3]
//
// Columns come from a fixed seed: a third continuous normal, a third rounded to two decimals (ties),
// a third small integers; every fourth column of the window is moved by a tenth of its spread.
// The references are fitted from 100,000-row reference columns first, untimed, and written as the
// plain JSON a monitor stores. Then each method scores in a process of its own (so its peak RSS is
// its own): it reads the window and the stored references, and times scoring all the columns one
// after the other, twice: cold (the process's first window: the engine has not optimized the
// code yet, and each reference is decoded at its first score) and warm (the same window again, as
// a running monitor scores its next one; the figure against the target). The baseline has no fitted form: it computes each column from both raw arrays.
// Printed: medians, the median of each round's ratio to the baseline, the peak RSS of the scoring
// process and what it held before scoring began, and how many columns each side found drifted.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import type { DriftReference, DriftScore } from '@trellis/plugin-sdk';
import { createPluginInstance } from '@trellis/plugin-sdk/testing';
import plugin from '../../../plugins/drift-stats/src/index';
import { argument, load, median, normals, secondsSince } from './samples';

const METHODS = ['wasserstein', 'ks', 'psi'] as const;
type Method = (typeof METHODS)[number];

const rows = Number(argument('rows', '100000'));
const columns = Number(argument('columns', '100'));
const runs = Number(argument('runs', '3'));
const workDir = resolve(join(__dirname, '..', '..', '..', 'tmp', 'bench-window'));
const referencePath = join(workDir, 'reference.f64');
const windowPath = join(workDir, 'window.f64');
const referencesPath = (method: Method) => join(workDir, `${method}.references.ndjson`);

interface ScoringResult {
  /** The first pass over the columns: the process's first window, its code not yet optimized by the engine. */
  coldSeconds: number;
  /** The same columns scored again, as a running service scores its next window. */
  seconds: number;
  drifted: number;
  maxRssKiB: number;
  /** Peak RSS before scoring began: node, the window and the parsed references. */
  readyRssKiB: number;
}

/**
 * The process's own peak RSS, KiB: VmHWM of /proc/self/status. Not `process.resourceUsage().maxRSS`:
 * Linux carries a parent's peak across fork and exec into it, so a child spawned by this 300 MB
 * bench would start at 300 MB.
 */
function peakRssKiB(): number {
  return Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? Number.NaN);
}

/** Column `c` of a matrix laid out column after column. */
const columnOf = (matrix: Float64Array, c: number): Float64Array => matrix.subarray(c * rows, (c + 1) * rows);

/** `rows` x `columns` values, column after column: normal, normal to two decimals, or small integers by column; `shifted` moves every fourth column. */
function matrix(seed: number, shifted: boolean): Float64Array {
  const out = new Float64Array(rows * columns);
  for (let c = 0; c < columns; c++) {
    const shift = shifted && c % 4 === 0 ? 0.1 : 0;
    const values = normals(seed * 1000 + c, rows, shift);
    const form = c % 3;
    for (let i = 0; i < rows; i++) {
      const v = values[i];
      out[c * rows + i] = form === 0 ? v * 10 + 50 : form === 1 ? Math.round(v * 100) / 100 : Math.max(0, Math.round(v * 3 + 8));
    }
  }
  return out;
}

function readMatrix(path: string): Float64Array {
  const bytes = readFileSync(path);
  return new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
}

/** The child: scores every column of the window against the stored references of one method. */
async function scoreAll(method: Method): Promise<void> {
  const window = readMatrix(windowPath);
  const references = readFileSync(referencesPath(method), 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as DriftReference);
  const detector = await createPluginInstance(plugin, { method });
  const readyRssKiB = peakRssKiB();
  const pass = async (): Promise<{ seconds: number; scores: DriftScore[] }> => {
    const start = process.hrtime.bigint();
    const scores: DriftScore[] = [];
    for (let c = 0; c < columns; c++) scores.push(await detector.score(references[c], { type: 'numeric', values: columnOf(window, c) }));
    return { seconds: secondsSince(start), scores };
  };
  const cold = await pass();
  const { seconds, scores } = await pass();
  const result: ScoringResult = { coldSeconds: cold.seconds, seconds, drifted: scores.filter((s) => s.drifted).length, maxRssKiB: peakRssKiB(), readyRssKiB };
  console.log(JSON.stringify(result));
}

function childRound(method: Method): ScoringResult {
  const run = spawnSync(process.execPath, [join(__dirname, '..', 'run.cjs'), __filename, '--child', method, '--rows', String(rows), '--columns', String(columns)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (run.status !== 0) throw new Error(`${method}: ${run.stderr}`);
  return JSON.parse(run.stdout) as ScoringResult;
}

function baselineRound(): { seconds: Record<Method, number>; drifted: Record<Method, number>; maxRssKiB: number; readyRssKiB: number; versions: string } {
  const run = spawnSync('/usr/bin/python3', [join(__dirname, 'window_scipy.py'), referencePath, windowPath, String(columns)], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`scipy: ${run.stderr}`);
  const out = JSON.parse(run.stdout) as { seconds: Record<Method, number>; drifted: Record<Method, number>; max_rss_kib: number; ready_rss_kib: number; numpy: string; scipy: string };
  return { seconds: out.seconds, drifted: out.drifted, maxRssKiB: out.max_rss_kib, readyRssKiB: out.ready_rss_kib, versions: `numpy ${out.numpy}, scipy ${out.scipy}` };
}

async function main(): Promise<void> {
  mkdirSync(workDir, { recursive: true });
  const [reference, window] = [matrix(1, false), matrix(2, true)];
  writeFileSync(referencePath, Buffer.from(reference.buffer));
  writeFileSync(windowPath, Buffer.from(window.buffer));
  for (const method of METHODS) {
    const detector = await createPluginInstance(plugin, { method });
    const lines: string[] = [];
    for (let c = 0; c < columns; c++) lines.push(JSON.stringify(await detector.fit({ type: 'numeric', values: columnOf(reference, c) })));
    writeFileSync(referencesPath(method), `${lines.join('\n')}\n`);
  }
  console.log(`Window bench: ${rows} rows x ${columns} numeric columns against ${rows}-row references, ${runs} rounds; ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}`);
  console.log(`load average at start: ${load()}`);
  const times = Object.fromEntries(METHODS.map((m) => [m, { baseline: [] as number[], cold: [] as number[], driftStats: [] as number[] }])) as Record<Method, { baseline: number[]; cold: number[]; driftStats: number[] }>;
  const rss = Object.fromEntries(METHODS.map((m) => [m, [] as number[]])) as Record<Method, number[]>;
  const ready = Object.fromEntries(METHODS.map((m) => [m, [] as number[]])) as Record<Method, number[]>;
  const drifted = Object.fromEntries(METHODS.map((m) => [m, ''])) as Record<Method, string>;
  let baselineRss = '';
  let versions = '';
  for (let round = 0; round < runs; round++) {
    const baseline = baselineRound();
    [baselineRss, versions] = [`${(baseline.maxRssKiB / 1024).toFixed(0)} MB (${(baseline.readyRssKiB / 1024).toFixed(0)} MB before scoring)`, baseline.versions];
    for (const method of METHODS) {
      const result = childRound(method);
      times[method].baseline.push(baseline.seconds[method]);
      times[method].driftStats.push(result.seconds);
      times[method].cold.push(result.coldSeconds);
      rss[method].push(result.maxRssKiB);
      ready[method].push(result.readyRssKiB);
      drifted[method] = `baseline ${baseline.drifted[method]}, drift-stats ${result.drifted} of ${columns}`;
    }
  }
  console.log(`load average at end: ${load()}`);
  console.log(`baseline: ${versions}; its peak RSS ${baselineRss}`);
  for (const method of METHODS) {
    const { baseline, cold, driftStats } = times[method];
    const ratio = (seconds: number[]) => median(seconds.map((s, i) => s / baseline[i])).toFixed(2);
    console.log(`${method}: drifted columns: ${drifted[method]}; peak RSS ${(median(rss[method]) / 1024).toFixed(0)} MB (${(median(ready[method]) / 1024).toFixed(0)} MB before scoring)`);
    console.log(`  baseline           median ${(median(baseline) * 1000).toFixed(0).padStart(6)} ms`);
    console.log(`  drift-stats cold   median ${(median(cold) * 1000).toFixed(0).padStart(6)} ms   median ratio to baseline ${ratio(cold)}x`);
    console.log(`  drift-stats warm   median ${(median(driftStats) * 1000).toFixed(0).padStart(6)} ms   median ratio to baseline ${ratio(driftStats)}x`);
  }
}

const child = argument('child', '');
void (child ? scoreAll(child as Method) : main());

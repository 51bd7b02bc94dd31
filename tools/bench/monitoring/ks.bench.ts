// KS, 1M against 1M values of one numeric column: drift-stats' `ks` detector against
// scipy.stats.ks_2samp (Debian's python3-scipy), timed in the same run, round by round.
//
//   node tools/bench/run.cjs tools/bench/monitoring/ks.bench.ts [--rows 1000000] [--runs 5]
//
// Both windows come from a fixed seed (normal; the current one moved by 0.01). Each round times
// scipy on the arrays already loaded, then the detector fitting the raw reference and scoring the
// window, then scoring alone against the already-fitted reference. Printed: medians and the median
// of each round's ratio to scipy, with the load average at start and end, and both p-values.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { createPluginInstance } from '@trellis/plugin-sdk/testing';
import plugin from '../../../plugins/drift-stats/src/index';

function argument(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const rows = Number(argument('rows', '1000000'));
const runs = Number(argument('runs', '5'));
const workDir = resolve(join(__dirname, '..', '..', '..', 'tmp', 'bench-ks'));

/** mulberry32, then Box-Muller: a fixed sequence of normal draws. */
function normals(seed: number, count: number, shift: number): Float64Array {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Float64Array.from({ length: count }, () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()) + shift);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

function scipyRound(referencePath: string, currentPath: string): { seconds: number; pvalue: number } {
  const run = spawnSync('/usr/bin/python3', [join(__dirname, 'ks_scipy.py'), referencePath, currentPath, '1'], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`scipy: ${run.stderr}`);
  const out = JSON.parse(run.stdout) as { seconds: number[]; pvalue: number };
  return { seconds: out.seconds[0], pvalue: out.pvalue };
}

async function main(): Promise<void> {
  mkdirSync(workDir, { recursive: true });
  const [reference, current] = [normals(1, rows, 0), normals(2, rows, 0.01)];
  const [referencePath, currentPath] = [join(workDir, 'reference.f64'), join(workDir, 'current.f64')];
  writeFileSync(referencePath, Buffer.from(reference.buffer));
  writeFileSync(currentPath, Buffer.from(current.buffer));
  const detector = await createPluginInstance(plugin, { method: 'ks' });
  const [referenceColumn, currentColumn] = [{ type: 'numeric' as const, values: reference }, { type: 'numeric' as const, values: current }];
  const fitted = await detector.fit(referenceColumn);
  console.log(`KS bench: ${rows} vs ${rows} values, ${runs} rounds; ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}`);
  console.log(`load average at start: ${load()}`);
  const times = { scipy: [] as number[], fitScore: [] as number[], score: [] as number[] };
  let pvalues: number[] = [];
  for (let round = 0; round < runs; round++) {
    const baseline = scipyRound(referencePath, currentPath);
    times.scipy.push(baseline.seconds);
    let start = process.hrtime.bigint();
    const fresh = await detector.score(await detector.fit(referenceColumn), currentColumn);
    times.fitScore.push(Number(process.hrtime.bigint() - start) / 1e9);
    start = process.hrtime.bigint();
    await detector.score(fitted, currentColumn);
    times.score.push(Number(process.hrtime.bigint() - start) / 1e9);
    pvalues = [baseline.pvalue, fresh.measure === 'p-value' ? fresh.pValue : Number.NaN];
  }
  console.log(`load average at end: ${load()}`);
  console.log(`p-value: scipy ${pvalues[0]}, drift-stats ${pvalues[1]}`);
  for (const [phase, seconds] of Object.entries(times)) {
    const ratios = seconds.map((s, i) => s / times.scipy[i]);
    console.log(`${phase.padEnd(10)} median ${(median(seconds) * 1000).toFixed(0).padStart(6)} ms   median ratio to scipy ${median(ratios).toFixed(2)}x`);
  }
}

void main();

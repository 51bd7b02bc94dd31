// PSI and the normed Wasserstein distance, 1M against 1M values of one numeric column: drift-stats'
// `psi` and `wasserstein` detectors against numpy (PSI over the reference's deciles, as drift-stats
// and Evidently compute it) and scipy.stats.wasserstein_distance divided by numpy's std of the
// reference (Debian's python3-numpy and python3-scipy), timed in the same run, round by round.
//
//   node --expose-gc tools/bench/run.cjs tools/bench/monitoring/distances.bench.ts [--rows 1000000] [--runs 5]
//
// With --expose-gc each timed phase starts on a collected heap (otherwise a phase pays for the
// garbage of the one before it: a fitted 1M-value reference is some 20 MB of strings); it prints
// which way it ran.
// The same windows as ks.bench.ts (fixed seed, normal; the current one moved by 0.01). Each round
// times the baseline on the arrays already loaded, then for each method the detector fitting the
// raw reference and scoring the window (what the baseline does), then scoring alone against the
// already-fitted reference. Printed: medians and the median of each round's ratio to its baseline,
// with the load average at start and end, and both values of each method.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import type { DriftColumn, DriftScore } from '@trellis/plugin-sdk';
import { createPluginInstance } from '@trellis/plugin-sdk/testing';
import plugin from '../../../plugins/drift-stats/src/index';
import { argument, load, median, normals, secondsSince } from './samples';

const METHODS = ['psi', 'wasserstein'] as const;
type Method = (typeof METHODS)[number];

const rows = Number(argument('rows', '1000000'));
const runs = Number(argument('runs', '5'));
const workDir = resolve(join(__dirname, '..', '..', '..', 'tmp', 'bench-distances'));

function baselineRound(referencePath: string, currentPath: string): { seconds: Record<Method, number>; values: Record<Method, number>; versions: string } {
  const run = spawnSync('/usr/bin/python3', [join(__dirname, 'distances_numpy.py'), referencePath, currentPath, '1'], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`numpy: ${run.stderr}`);
  const out = JSON.parse(run.stdout) as { seconds: Record<Method, number[]>; values: Record<Method, number>; numpy: string; scipy: string };
  return { seconds: { psi: out.seconds.psi[0], wasserstein: out.seconds.wasserstein[0] }, values: out.values, versions: `numpy ${out.numpy}, scipy ${out.scipy}` };
}

/** Collects the heap when node runs with --expose-gc. */
const collect = (): void => (globalThis as { gc?: () => void }).gc?.();

const distanceOf = (score: DriftScore): number => (score.measure === 'distance' ? score.distance : Number.NaN);

async function main(): Promise<void> {
  mkdirSync(workDir, { recursive: true });
  const [reference, current] = [normals(1, rows, 0), normals(2, rows, 0.01)];
  const [referencePath, currentPath] = [join(workDir, 'reference.f64'), join(workDir, 'current.f64')];
  writeFileSync(referencePath, Buffer.from(reference.buffer));
  writeFileSync(currentPath, Buffer.from(current.buffer));
  const [referenceColumn, currentColumn]: DriftColumn[] = [{ type: 'numeric', values: reference }, { type: 'numeric', values: current }];
  const detectors = { psi: await createPluginInstance(plugin, { method: 'psi' }), wasserstein: await createPluginInstance(plugin, { method: 'wasserstein' }) };
  const fitted = { psi: await detectors.psi.fit(referenceColumn), wasserstein: await detectors.wasserstein.fit(referenceColumn) };
  console.log(`PSI and Wasserstein bench: ${rows} vs ${rows} values, ${runs} rounds; ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}`);
  console.log(`load average at start: ${load()}; heap collected before each phase: ${typeof (globalThis as { gc?: unknown }).gc === 'function' ? 'yes' : 'no (run node with --expose-gc)'}`);
  const times = Object.fromEntries(METHODS.map((m) => [m, { baseline: [] as number[], fitScore: [] as number[], score: [] as number[] }])) as Record<Method, Record<'baseline' | 'fitScore' | 'score', number[]>>;
  let last = { baseline: {} as Record<Method, number>, driftStats: {} as Record<Method, number>, versions: '' };
  for (let round = 0; round < runs; round++) {
    const baseline = baselineRound(referencePath, currentPath);
    last = { baseline: baseline.values, driftStats: {} as Record<Method, number>, versions: baseline.versions };
    for (const method of METHODS) {
      const detector = detectors[method];
      times[method].baseline.push(baseline.seconds[method]);
      collect();
      let start = process.hrtime.bigint();
      const fresh = await detector.score(await detector.fit(referenceColumn), currentColumn);
      times[method].fitScore.push(secondsSince(start));
      collect();
      start = process.hrtime.bigint();
      await detector.score(fitted[method], currentColumn);
      times[method].score.push(secondsSince(start));
      last.driftStats[method] = distanceOf(fresh);
    }
  }
  console.log(`load average at end: ${load()}`);
  console.log(`baseline: ${last.versions}`);
  for (const method of METHODS) {
    console.log(`${method}: baseline ${last.baseline[method]}, drift-stats ${last.driftStats[method]}`);
    const phases = times[method];
    for (const [phase, seconds] of Object.entries(phases)) {
      const ratios = seconds.map((s, i) => s / phases.baseline[i]);
      console.log(`  ${phase.padEnd(10)} median ${(median(seconds) * 1000).toFixed(0).padStart(6)} ms   median ratio to baseline ${median(ratios).toFixed(2)}x`);
    }
  }
}

void main();

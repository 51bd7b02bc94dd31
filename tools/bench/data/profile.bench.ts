// Profile of a 1M-row, 20-column CSV: the data service's profiler (DuckDB) against pandas
// (read_csv + describe + 101 percentiles, Debian's python3-pandas) and a streaming JS parser
// (csv-parse, with running moments only: a lower bound for a csv-parse + sketch engine), each in
// its own process so that its peak RSS is its own, timed in the same run.
//
//   node tools/bench/run.cjs tools/bench/data/profile.bench.ts [--rows 1000000] [--runs 3] [--dir <work dir>] [--keep]
//
// The CSV is generated from a fixed seed (the same bytes every run): 10 float columns (normal, 2%
// missing), 4 integer, 4 string (5, 50, 500 and 20,000 categories, skewed), a boolean and a date.
// Each row of the table is the median of the rounds; the ratios are medians of each round's ratio
// (pandas and the profiler run back to back, so a round's two phases see about the same load), in
// wall time and in CPU time (user + system, which a busy machine disturbs less). pandas missing:
// its rows say so and the rest runs.
// The first round also compares the profile's percentiles with pandas' exact ones (the same linear
// interpolation): the largest error per column as a share of the documented bound, (max - min) / 2000.
// csv-parse is not a dependency of the repository; its phase runs when it resolves (NODE_PATH).
import { spawnSync } from 'node:child_process';
import { createWriteStream, createReadStream } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { PROFILE_LOCATOR_BINS } from '../../../libs/data/src/profiles/numeric-summary';
import type { TableProfile } from '../../../libs/data/src/profiles/profile.types';
import { profileTable } from '../../../libs/data/src/profiles/table-profiler';

interface PhaseResult {
  seconds: number;
  /** User + system CPU time of the timed span, all threads. */
  cpuSeconds: number;
  maxRssKiB: number;
  /** Peak RSS of the process before the phase started, KiB (node + swc; 0 for python). */
  readyRssKiB: number;
}

function argument(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const rowCount = Number(argument('rows', '1000000'));
const runs = Number(argument('runs', '3'));
const workDir = resolve(argument('dir', join(__dirname, '..', '..', '..', 'tmp', 'bench-profile')));
const csvPath = join(workDir, `table-${rowCount}.csv`);
const profilePath = join(workDir, 'profile.json');
const pandasQuantilesPath = join(workDir, 'pandas-quantiles.json');

/** mulberry32: a small deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function generate(): Promise<void> {
  const random = prng(20261205);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const category = (n: number): string => `c${Math.floor(n * random() ** 2)}`;
  const header = [
    ...Array.from({ length: 10 }, (_, i) => `f${i}`),
    ...Array.from({ length: 4 }, (_, i) => `i${i}`),
    ...Array.from({ length: 4 }, (_, i) => `s${i}`),
    'flag',
    'day',
  ];
  const out = createWriteStream(csvPath);
  out.write(`${header.join(',')}\n`);
  const day0 = Date.UTC(2024, 0, 1);
  for (let r = 0; r < rowCount; r++) {
    const cells: string[] = [];
    for (let i = 0; i < 10; i++) cells.push(random() < 0.02 ? '' : (normal() * (i + 1) + i * 10).toFixed(6));
    cells.push(String(Math.floor(random() * 100)), String(Math.floor(random() * 1e6)), String(r), String(Math.floor(normal() * 50)));
    cells.push(category(5), category(50), category(500), category(20000));
    cells.push(random() < 0.3 ? 'true' : 'false');
    cells.push(new Date(day0 + Math.floor(random() * 365) * 86400000).toISOString().slice(0, 10));
    if (!out.write(`${cells.join(',')}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function runDuckdb(): Promise<TableProfile> {
  const profile = await profileTable(csvPath, 'csv');
  if (profile.rows !== rowCount || profile.columns.length !== 20) throw new Error(`profiled ${profile.rows} rows, ${profile.columns.length} columns`);
  return profile;
}

/** csv-parse with casting and running count/min/max/sum/sum of squares per column: no sketch yet. */
async function runCsvParse(): Promise<void> {
  // Not a dependency of the repository: found through NODE_PATH when installed for the comparison.
  const { parse } = require('csv-parse') as { parse(options: { from_line: number }): NodeJS.ReadWriteStream };
  const parser = createReadStream(csvPath).pipe(parse({ from_line: 2 }));
  const stats = Array.from({ length: 20 }, () => ({ n: 0, min: Infinity, max: -Infinity, sum: 0, sq: 0 }));
  let rows = 0;
  for await (const record of parser as AsyncIterable<string[]>) {
    rows++;
    for (let i = 0; i < 14; i++) {
      if (record[i] === '') continue;
      const v = Number(record[i]);
      const s = stats[i];
      s.n++;
      if (v < s.min) s.min = v;
      if (v > s.max) s.max = v;
      s.sum += v;
      s.sq += v * v;
    }
  }
  if (rows !== rowCount) throw new Error(`parsed ${rows} rows`);
}

function child(phase: string): PhaseResult | string {
  if (phase === 'pandas') {
    const probe = spawnSync('sh', ['-c', 'command -p python3 -c "import pandas"'], { encoding: 'utf8' });
    if (probe.status !== 0) return 'pandas missing: apt-get install -y python3-pandas';
    const run = spawnSync('sh', ['-c', `command -p python3 ${join(__dirname, 'profile_pandas.py')} "$0" "$1"`, csvPath, pandasQuantilesPath], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`pandas: ${run.stderr}`);
    const out = JSON.parse(run.stdout) as { seconds: number; cpu_seconds: number; max_rss_kib: number };
    return { seconds: out.seconds, cpuSeconds: out.cpu_seconds, maxRssKiB: out.max_rss_kib, readyRssKiB: 0 };
  }
  if (phase === 'csv-parse') {
    try {
      require.resolve('csv-parse');
    } catch {
      return 'csv-parse not installed: NODE_PATH=<dir with csv-parse 7.0.3> to run this phase';
    }
  }
  const run = spawnSync(process.execPath, [join(__dirname, '..', 'run.cjs'), __filename, '--phase', phase, '--rows', String(rowCount), '--dir', workDir], {
    encoding: 'utf8',
    env: process.env,
  });
  if (run.status !== 0) throw new Error(`${phase}: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop() as string) as PhaseResult;
}

async function inChild(phase: string): Promise<void> {
  const readyRssKiB = process.resourceUsage().maxRSS;
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  let profile: TableProfile | undefined;
  if (phase === 'duckdb') profile = await runDuckdb();
  else await runCsvParse();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  if (profile) await writeFile(profilePath, JSON.stringify(profile));
  console.log(JSON.stringify({ seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssKiB: process.resourceUsage().maxRSS, readyRssKiB }));
}

/** The profile's percentiles against pandas' exact ones: the largest error per numeric column, as a share of the bound. */
async function compareQuantiles(): Promise<void> {
  const pandas = JSON.parse(await readFile(pandasQuantilesPath, 'utf8')) as Record<string, number[]>;
  const profile = JSON.parse(await readFile(profilePath, 'utf8')) as TableProfile;
  const shares = profile.columns.flatMap(({ name, min, max, quantiles }) => {
    const exact = pandas[name];
    if (!quantiles || !exact) return [];
    const bound = ((max as number) - (min as number)) / PROFILE_LOCATOR_BINS;
    const error = Math.max(...quantiles.quantiles.map(({ value }, k) => Math.abs(value - exact[k])));
    return [`${name} ${(error / bound).toFixed(3)}`];
  });
  console.log(`percentiles vs pandas, largest error / ((max - min) / ${PROFILE_LOCATOR_BINS}): ${shares.join(', ')}`);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const phaseArg = argument('phase', '');
  if (phaseArg) return inChild(phaseArg);
  await mkdir(workDir, { recursive: true });
  await generate();
  const bytes = (await stat(csvPath)).size;
  console.log(`profile bench: ${rowCount} rows x 20 columns, ${(bytes / 2 ** 20).toFixed(0)} MiB CSV, ${runs} rounds`);
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`);
  const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');
  console.log(`load average at start: ${load()}`);
  const phases = ['pandas', 'duckdb', 'csv-parse'];
  const results = new Map<string, PhaseResult[]>(phases.map((p) => [p, []]));
  const skipped = new Map<string, string>();
  for (let round = 0; round < runs; round++) {
    for (const phase of phases) {
      if (skipped.has(phase)) continue;
      const result = child(phase);
      if (typeof result === 'string') skipped.set(phase, result);
      else results.get(phase)?.push(result);
    }
    if (round === 0 && !skipped.has('pandas')) await compareQuantiles();
  }
  console.log(`load average at end: ${load()}`);
  console.log('phase                          seconds  CPU seconds  peak RSS MiB  idle RSS MiB');
  for (const phase of phases) {
    const rs = results.get(phase) ?? [];
    if (rs.length === 0) {
      console.log(`${phase.padEnd(30)} skipped: ${skipped.get(phase)}`);
      continue;
    }
    const rss = (k: number): string => (k / 1024).toFixed(0).padStart(12);
    const seconds = median(rs.map((r) => r.seconds)).toFixed(2).padStart(7);
    const cpu = median(rs.map((r) => r.cpuSeconds)).toFixed(2).padStart(11);
    console.log(`${phase.padEnd(30)} ${seconds}  ${cpu}  ${rss(median(rs.map((r) => r.maxRssKiB)))}  ${rss(median(rs.map((r) => r.readyRssKiB)))}`);
  }
  const pandas = results.get('pandas') ?? [];
  for (const phase of ['duckdb', 'csv-parse']) {
    const rs = results.get(phase) ?? [];
    if (pandas.length === 0 || rs.length !== pandas.length) continue;
    const ratios = (of: (r: PhaseResult) => number): string => rs.map((r, k) => (of(r) / of(pandas[k])).toFixed(2)).join(' ');
    const median2 = (of: (r: PhaseResult) => number): string => median(rs.map((r, k) => of(r) / of(pandas[k]))).toFixed(2);
    console.log(`${phase} / pandas time: ${median2((r) => r.seconds)} (rounds: ${ratios((r) => r.seconds)}); CPU time: ${median2((r) => r.cpuSeconds)} (rounds: ${ratios((r) => r.cpuSeconds)})`);
  }
  if (pandas.length === 0) console.log('pandas baseline missing: no ratio');
  if (!process.argv.includes('--keep')) await rm(workDir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

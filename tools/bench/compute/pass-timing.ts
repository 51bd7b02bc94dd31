// What the admission and placement benches share: timing of one call in wall and CPU time, the
// same-run floor (copying and sorting the pending jobs by priority and age, which any pass must
// do), and the table they print.
import { cpus, loadavg } from 'node:os';
import type { AdmissionSnapshot, PendingWorkload } from '../../../libs/compute/src/admission';

export interface Timing {
  wall: number;
  cpu: number;
}

export const byPriorityThenAge = (a: PendingWorkload, b: PendingWorkload) =>
  b.priority - a.priority || a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export function floor(snapshot: AdmissionSnapshot): number {
  return [...snapshot.pending].sort(byPriorityThenAge).length;
}

// CPU time (user + system, all threads of the process, GC included) next to wall time: on a
// machine shared with other builds, wall time counts the waits for a core as well.
export function time(run: () => unknown): Timing {
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  run();
  const { user, system } = process.cpuUsage(cpuStart);
  return { wall: Number(process.hrtime.bigint() - start) / 1e6, cpu: (user + system) / 1000 };
}

export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ms = (value: number) => value.toFixed(1).padStart(8);

export const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');

export const machine = () => `node ${process.version}, ${cpus().length} x ${cpus()[0]?.model}, load average at start ${load()}`;

/** Prints the table: one row per way timed. */
export function table(rows: [string, Timing[]][]): void {
  console.log(`\nway          wall ms: median      min      max   cpu ms: median   min   rounds`);
  for (const [name, timings] of rows) {
    const wall = timings.map((t) => t.wall);
    const cpu = timings.map((t) => t.cpu);
    console.log(`${name.padEnd(13)}${ms(median(wall))} ${ms(Math.min(...wall))} ${ms(Math.max(...wall))} ${ms(median(cpu))} ${ms(Math.min(...cpu))}   ${timings.length}`);
  }
}

/** `admit() decides N jobs/s ...; Nx the floor (wall), Nx by CPU time`. */
export function summary(jobs: number, passes: Timing[], floors: Timing[]): string {
  const pass = median(passes.map((t) => t.wall));
  const cpu = median(passes.map((t) => t.cpu));
  return (
    `admit() decides ${Math.round(jobs / (pass / 1000)).toLocaleString('en')} jobs/s by wall time, ${Math.round(jobs / (cpu / 1000)).toLocaleString('en')} by CPU time; ` +
    `${(pass / median(floors.map((t) => t.wall))).toFixed(1)}x the floor by wall time, ${(cpu / median(floors.map((t) => t.cpu))).toFixed(1)}x by CPU time`
  );
}

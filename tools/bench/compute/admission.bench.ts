// One admission pass (libs/compute/src/admission) over a synthetic snapshot: BENCH_PENDING pending
// jobs (10,000) in BENCH_PROJECTS projects (50) with quotas, on BENCH_QUEUES queues (5) in one
// cohort, with admitted jobs filling 90% of the quotas (some borrowing), reclaim and within-queue
// preemption on. Same-run baselines, rounds interleaved with the pass:
// - floor: copying and sorting the pending jobs by priority and age, which any pass must do;
// - naive: first-fit in priority order, each job's grant, cohort and cluster usage summed anew from
//   the admitted jobs (no preemption, no fair share, GPUs of any type ignored): the obvious O(n x m).
// Kueue's published figure for context: about 43 workloads admitted per second.
// Run: node tools/bench/run.cjs tools/bench/compute/admission.bench.ts (BENCH_NAIVE_ROUNDS=0 leaves naive out)
import { cpus, loadavg } from 'node:os';
import { admit, type AdmissionSnapshot, type AdmittedWorkload, type PendingWorkload } from '../../../libs/compute/src/admission';
import { syntheticSnapshot } from '../../../libs/compute/src/admission/admission.scenario';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);
const NAIVE_ROUNDS = Number(process.env.BENCH_NAIVE_ROUNDS ?? 3);
const PENDING = Number(process.env.BENCH_PENDING ?? 10_000);
const PROJECTS = Number(process.env.BENCH_PROJECTS ?? 50);
const QUEUES = Number(process.env.BENCH_QUEUES ?? 5);
const ADMITTED = Number(process.env.BENCH_ADMITTED ?? 2_000);

const byPriorityThenAge = (a: PendingWorkload, b: PendingWorkload) =>
  b.priority - a.priority || a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function floor(snapshot: AdmissionSnapshot): number {
  return [...snapshot.pending].sort(byPriorityThenAge).length;
}

function naive(snapshot: AdmissionSnapshot): number {
  const queues = new Map(snapshot.queues.map((queue) => [queue.id, queue]));
  const clusters = new Map(snapshot.clusters.map((cluster) => [cluster.id, cluster]));
  const holding: AdmittedWorkload[] = [...snapshot.admitted];
  const sum = (jobs: AdmittedWorkload[], name: string) => jobs.reduce((total, job) => total + (job.request[name] ?? 0) * job.replicas, 0);
  let admitted = 0;
  for (const job of [...snapshot.pending].sort(byPriorityThenAge)) {
    const queue = queues.get(job.queueId);
    const grant = snapshot.grants.find((g) => g.queueId === job.queueId && g.projectId === job.projectId);
    if (!queue || !grant) continue;
    const cohort = new Set(snapshot.queues.filter((q) => (q.cohort ?? q.id) === (queue.cohort ?? queue.id)).map((q) => q.id));
    const cohortGrants = snapshot.grants.filter((g) => cohort.has(g.queueId));
    const mine = holding.filter((held) => held.queueId === job.queueId && held.projectId === job.projectId);
    const inCohort = holding.filter((held) => cohort.has(held.queueId));
    const clusterId = queue.clusters[0]?.clusterId;
    const onCluster = holding.filter((held) => held.clusterId === clusterId);
    const fits = Object.entries(job.request).every(([name, each]) => {
      const need = each * job.replicas;
      const quota = grant.quotas[name];
      const ceiling = (quota?.nominal ?? 0) + (quota?.borrowingLimit ?? Infinity);
      const cohortQuota = cohortGrants.reduce((total, g) => total + (g.quotas[name]?.nominal ?? 0), 0);
      const capacity = clusters.get(clusterId)?.capacity[name] ?? 0;
      return sum(mine, name) + need <= ceiling && sum(inCohort, name) + need <= cohortQuota && sum(onCluster, name) + need <= capacity;
    });
    if (fits) {
      holding.push({ ...job, admittedAt: 0, clusterId });
      admitted++;
    }
  }
  return admitted;
}

interface Timing {
  wall: number;
  cpu: number;
}

// CPU time (user + system, all threads of the process, GC included) next to wall time: on a
// machine shared with other builds, wall time counts the waits for a core as well.
function time(run: () => unknown): Timing {
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  run();
  const { user, system } = process.cpuUsage(cpuStart);
  return { wall: Number(process.hrtime.bigint() - start) / 1e6, cpu: (user + system) / 1000 };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ms = (value: number) => value.toFixed(1).padStart(8);

function main(): void {
  const snapshot = syntheticSnapshot({ projects: PROJECTS, queues: QUEUES, admitted: ADMITTED, pending: PENDING, seed: 1 });
  const decisions = admit(snapshot);
  console.log(`node ${process.version}, ${cpus().length} x ${cpus()[0]?.model}, load average at start ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(
    `snapshot: ${snapshot.pending.length} pending, ${snapshot.admitted.length} admitted, ${snapshot.grants.length} projects on ${snapshot.queues.length} queues in 1 cohort; ` +
      `one pass admits ${decisions.admit.length}, preempts ${decisions.preempt.length}, keeps ${decisions.waiting.length} waiting`,
  );
  for (let warm = 0; warm < 5; warm++) {
    admit(snapshot);
    floor(snapshot);
  }
  if (NAIVE_ROUNDS) naive(snapshot);

  const passes: Timing[] = [];
  const floors: Timing[] = [];
  const naives: Timing[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    passes.push(time(() => admit(snapshot)));
    floors.push(time(() => floor(snapshot)));
    if (round < NAIVE_ROUNDS) naives.push(time(() => naive(snapshot)));
  }
  const row = (name: string, timings: Timing[]) => {
    const wall = timings.map((t) => t.wall);
    const cpu = timings.map((t) => t.cpu);
    return `${name.padEnd(13)}${ms(median(wall))} ${ms(Math.min(...wall))} ${ms(Math.max(...wall))} ${ms(median(cpu))} ${ms(Math.min(...cpu))}   ${timings.length}`;
  };
  console.log(`\nway          wall ms: median      min      max   cpu ms: median   min   rounds`);
  console.log(row('admit()', passes));
  console.log(row('floor (sort)', floors));
  if (naives.length) console.log(row('naive', naives));
  const pass = median(passes.map((t) => t.wall));
  const cpu = median(passes.map((t) => t.cpu));
  console.log(
    `\nadmit() decides ${Math.round(snapshot.pending.length / (pass / 1000)).toLocaleString('en')} jobs/s by wall time, ${Math.round(snapshot.pending.length / (cpu / 1000)).toLocaleString('en')} by CPU time ` +
      `(Kueue: about 43 workloads/s admitted); ${(pass / median(floors.map((t) => t.wall))).toFixed(1)}x the floor, ${naives.length ? `${(median(naives.map((t) => t.wall)) / pass).toFixed(0)}x faster than naive; ` : ''}` +
      `load average at end ${loadavg().map((l) => l.toFixed(1)).join(' ')}`,
  );
}

main();

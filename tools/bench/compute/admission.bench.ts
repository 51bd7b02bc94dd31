// One admission pass (libs/compute/src/admission) over a synthetic snapshot: BENCH_PENDING pending
// jobs (10,000) in BENCH_PROJECTS projects (50) with quotas, on BENCH_QUEUES queues (5) in one
// cohort, with admitted jobs filling 90% of the quotas (some borrowing), reclaim and within-queue
// preemption on. Same-run baselines, rounds interleaved with the pass:
// - floor: copying and sorting the pending jobs by priority and age, which any pass must do;
// - naive: first-fit in priority order, each job's grant, cohort and cluster usage summed anew from
//   the admitted jobs (no preemption, no fair share, GPUs of any type ignored): the obvious O(n x m).
// Kueue's published figure for context: about 43 workloads admitted per second.
// Run: node tools/bench/run.cjs tools/bench/compute/admission.bench.ts (BENCH_NAIVE_ROUNDS=0 leaves naive out)
import { admit, type AdmissionSnapshot, type AdmittedWorkload } from '../../../libs/compute/src/admission';
import { syntheticSnapshot } from '../../../libs/compute/src/admission/admission.scenario';
import { byPriorityThenAge, floor, load, machine, median, summary, table, time, type Timing } from './pass-timing';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);
const NAIVE_ROUNDS = Number(process.env.BENCH_NAIVE_ROUNDS ?? 3);
const PENDING = Number(process.env.BENCH_PENDING ?? 10_000);
const PROJECTS = Number(process.env.BENCH_PROJECTS ?? 50);
const QUEUES = Number(process.env.BENCH_QUEUES ?? 5);
const ADMITTED = Number(process.env.BENCH_ADMITTED ?? 2_000);

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

function main(): void {
  const snapshot = syntheticSnapshot({ projects: PROJECTS, queues: QUEUES, admitted: ADMITTED, pending: PENDING, seed: 1 });
  const decisions = admit(snapshot);
  console.log(machine());
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
  table([
    ['admit()', passes],
    ['floor (sort)', floors],
    ...(naives.length ? ([['naive', naives]] as [string, Timing[]][]) : []),
  ]);
  const naiveRatio = naives.length ? `; ${(median(naives.map((t) => t.wall)) / median(passes.map((t) => t.wall))).toFixed(0)}x faster than naive` : '';
  console.log(`\n${summary(snapshot.pending.length, passes, floors)}${naiveRatio} (Kueue: about 43 workloads/s admitted); load average at end ${load()}`);
}

main();

// One admission pass with placement (libs/compute/src/admission, issue 15) over a synthetic snapshot
// across 6 clusters of mixed kinds (2 GPU clusters of different GPU types, 2 CPU-only, 2 mixed;
// different cost weights): BENCH_PENDING pending jobs (10,000) in BENCH_PROJECTS projects (50) on
// three queues in one cohort, one per placement policy (FIRST_FIT, LEAST_LOADED, CHEAPEST), with
// admitted jobs placed on the clusters, some jobs limited to the clusters that can run them, and
// reclaim and within-queue preemption on. Same-run baseline, rounds interleaved with the pass: the
// floor, copying and sorting the pending jobs by priority and age, which any pass must do.
// Run: node tools/bench/run.cjs tools/bench/compute/placement.bench.ts
import { admit } from '../../../libs/compute/src/admission';
import { placementSnapshot } from '../../../libs/compute/src/admission/admission.scenario';
import { floor, load, machine, summary, table, time, type Timing } from './pass-timing';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);
const PENDING = Number(process.env.BENCH_PENDING ?? 10_000);
const PROJECTS = Number(process.env.BENCH_PROJECTS ?? 50);
const ADMITTED = Number(process.env.BENCH_ADMITTED ?? 2_000);

function main(): void {
  const snapshot = placementSnapshot({ projects: PROJECTS, admitted: ADMITTED, pending: PENDING, seed: 1 });
  const decisions = admit(snapshot);
  const onClusters = new Set(decisions.admit.map((admission) => admission.clusterId)).size;
  console.log(machine());
  console.log(
    `snapshot: ${snapshot.pending.length} pending, ${snapshot.admitted.length} admitted, ${snapshot.grants.length} projects on ${snapshot.queues.length} queues ` +
      `(${snapshot.queues.map((queue) => `${queue.name} ${queue.placement} over ${queue.clusters.length}`).join(', ')}) across ${snapshot.clusters.length} clusters; ` +
      `one pass admits ${decisions.admit.length} onto ${onClusters} clusters, preempts ${decisions.preempt.length}, keeps ${decisions.waiting.length} waiting`,
  );
  for (let warm = 0; warm < 5; warm++) {
    admit(snapshot);
    floor(snapshot);
  }
  const passes: Timing[] = [];
  const floors: Timing[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    passes.push(time(() => admit(snapshot)));
    floors.push(time(() => floor(snapshot)));
  }
  table([
    ['admit()', passes],
    ['floor (sort)', floors],
  ]);
  console.log(`\n${summary(snapshot.pending.length, passes, floors)}; load average at end ${load()}`);
}

main();

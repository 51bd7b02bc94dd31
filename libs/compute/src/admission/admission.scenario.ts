import type { AdmissionGrant, AdmissionQueue, AdmissionSnapshot, AdmittedWorkload, PendingWorkload, ResourceQuota } from './admission.types';

/** How big a synthetic snapshot to make. */
export interface ScenarioSize {
  projects: number;
  queues: number;
  /** At most this many admitted jobs: fewer where the 90% fill of quotas stops them first. */
  admitted: number;
  pending: number;
  seed: number;
}

const GiB = 1024 ** 3;
const H100 = 'gpu/nvidia-h100';
const A100 = 'gpu/nvidia-a100';

/**
 * A synthetic snapshot, the same for the same size and seed: one cluster with H100s and A100s,
 * queues in one cohort (reclaim and within-queue preemption of lower priorities), one grant per
 * project with nominal quotas, some with borrowing and lending limits, admitted jobs of which some
 * borrow, and pending jobs of three priorities, 1 to 4 replicas, some asking for any GPU type.
 * For the bench and the determinism spec.
 */
export function syntheticSnapshot(size: ScenarioSize): AdmissionSnapshot {
  const random = seeded(size.seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const queues: AdmissionQueue[] = Array.from({ length: size.queues }, (_, q) => ({
    id: `queue-${q}`,
    name: `gpu-${q}`,
    clusters: [{ clusterId: 'cluster-1', costWeight: 1 }],
    placement: 'FIRST_FIT',
    cohort: 'gpu',
    preemption: { reclaimWithinCohort: 'LOWER_PRIORITY', withinQueue: 'LOWER_PRIORITY' },
  }));
  // Nominal quotas share the cluster out evenly, A100s to odd projects only.
  const capacity: Record<string, number> = { cpu: 4_096_000, memory: 32_768 * GiB, [H100]: 256, [A100]: 64 };
  const share = (name: string) => Math.floor(capacity[name] / size.projects);
  const nominal = (p: number): Record<string, number> => ({ cpu: share('cpu'), memory: share('memory'), [H100]: share(H100), [A100]: p % 2 ? 2 * share(A100) : 0 });
  const grants: AdmissionGrant[] = Array.from({ length: size.projects }, (_, p) => {
    const quota = (amount: number): ResourceQuota => ({
      nominal: amount,
      ...(p % 3 === 0 ? { borrowingLimit: amount } : {}),
      ...(p % 4 === 0 ? { lendingLimit: Math.floor(amount / 2) } : {}),
    });
    const quotas = Object.fromEntries(Object.entries(nominal(p)).map(([name, amount]) => [name, quota(amount)]));
    return { queueId: `queue-${p % size.queues}`, projectId: `project-${p}`, projectName: `team-${p}`, quotas };
  });
  const workload = (id: string) => {
    const project = Math.floor(random() * size.projects);
    const gpus = pick([0, 1, 1, 2, 4]);
    return {
      id,
      queueId: `queue-${project % size.queues}`,
      projectId: `project-${project}`,
      priority: pick([0, 100, 100, 100, 1000]),
      replicas: pick([1, 1, 1, 2, 4]),
      request: { cpu: pick([1000, 4000, 8000]), memory: pick([4, 16, 64]) * GiB, ...(gpus ? { [H100]: gpus } : {}) },
    };
  };
  // Admitted jobs fill 90% of the quotas, some projects borrowing up to half their nominal more.
  const used = new Map<string, Record<string, number>>();
  const total: Record<string, number> = {};
  const admitted: AdmittedWorkload[] = [];
  for (let n = 0; admitted.length < size.admitted && n < size.admitted * 4; n++) {
    const job = workload(`run-${n}`);
    const project = Number(job.projectId.slice('project-'.length));
    const mine = used.get(job.projectId) ?? {};
    const request = Object.entries(job.request);
    const over = ([name, each]: [string, number]) =>
      (mine[name] ?? 0) + each * job.replicas > 1.5 * nominal(project)[name] || (total[name] ?? 0) + each * job.replicas > 0.9 * capacity[name];
    if (request.some(over)) continue;
    for (const [name, each] of request) {
      mine[name] = (mine[name] ?? 0) + each * job.replicas;
      total[name] = (total[name] ?? 0) + each * job.replicas;
    }
    used.set(job.projectId, mine);
    admitted.push({ ...job, admittedAt: n, clusterId: 'cluster-1' });
  }
  const pending: PendingWorkload[] = Array.from({ length: size.pending }, (_, n) => {
    const { request, ...rest } = workload(`job-${n}`);
    const anyGpu = n % 7 === 0 && request[H100] ? { count: request[H100] } : undefined;
    const { [H100]: _typed, ...untyped } = request;
    return { ...rest, createdAt: size.admitted + Math.floor(random() * 1_000_000), ...(anyGpu ? { request: untyped, anyGpu } : { request }) };
  });
  return {
    clusters: [
      {
        id: 'cluster-1',
        name: 'gpu-farm',
        capacity,
        gpuMemoryBytes: { 'nvidia-h100': 80 * GiB, 'nvidia-a100': 40 * GiB },
      },
    ],
    queues,
    grants,
    admitted,
    pending,
  };
}

// A linear congruential generator (Numerical Recipes' constants): plenty for a scenario, no dependency.
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

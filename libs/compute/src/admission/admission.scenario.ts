import type { AdmissionCluster, AdmissionGrant, AdmissionQueue, AdmissionSnapshot, AdmittedWorkload, PendingWorkload, ResourceQuota, Resources } from './admission.types';

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
    const job = workload(`job-${n}`);
    const anyGpu = n % 7 === 0 && job.request[H100] ? { count: job.request[H100] } : undefined;
    return queued(job, size.admitted + Math.floor(random() * 1_000_000), anyGpu ? without(job.request, H100) : job.request, anyGpu);
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

/** How big a synthetic snapshot of queues across clusters to make. */
export interface PlacementSize {
  projects: number;
  /** At most this many admitted jobs: fewer where clusters (85%) and quotas (150%) stop them first. */
  admitted: number;
  pending: number;
  seed: number;
}

const TiB = 1024 * GiB;
const L4 = 'gpu/nvidia-l4';

/**
 * A synthetic snapshot across 6 clusters of mixed kinds, the same for the same size and seed: two
 * GPU clusters (H100s, A100s), two CPU-only ones, two mixed (H100 + L4, A100 + L4), different cost
 * weights; three queues in one cohort, one per placement policy (gpu: FIRST_FIT over the GPU and
 * mixed clusters; cpu: LEAST_LOADED over the CPU and mixed ones; batch: CHEAPEST over all six); one
 * grant per project with nominal quotas; admitted jobs placed first-fit; pending jobs of three
 * priorities, gangs of 1 to 8, some asking for any GPU type (some with a memory floor), a sixth
 * that the small local cluster cannot run and some that only the Slurm clusters can.
 */
export function placementSnapshot(size: PlacementSize): AdmissionSnapshot {
  const random = seeded(size.seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const gpus = (types: Record<string, number>) => Object.fromEntries(Object.entries(types).map(([type, memory]) => [type, memory * GiB]));
  const clusters: AdmissionCluster[] = [
    { id: 'k8s-h100', name: 'k8s-h100', capacity: { cpu: 1_024_000, memory: 8 * TiB, [H100]: 128 }, gpuMemoryBytes: gpus({ 'nvidia-h100': 80 }) },
    { id: 'slurm-a100', name: 'slurm-a100', capacity: { cpu: 512_000, memory: 4 * TiB, [A100]: 64 }, gpuMemoryBytes: gpus({ 'nvidia-a100': 40 }) },
    { id: 'slurm-cpu', name: 'slurm-cpu', capacity: { cpu: 4_096_000, memory: 16 * TiB }, gpuMemoryBytes: {} },
    { id: 'ray-cpu', name: 'ray-cpu', capacity: { cpu: 2_048_000, memory: 8 * TiB }, gpuMemoryBytes: {} },
    { id: 'k8s-mixed', name: 'k8s-mixed', capacity: { cpu: 1_024_000, memory: 8 * TiB, [H100]: 16, [L4]: 64 }, gpuMemoryBytes: gpus({ 'nvidia-h100': 80, 'nvidia-l4': 24 }) },
    { id: 'local-mixed', name: 'local-mixed', capacity: { cpu: 256_000, memory: 2 * TiB, [A100]: 8, [L4]: 16 }, gpuMemoryBytes: gpus({ 'nvidia-a100': 40, 'nvidia-l4': 24 }) },
  ];
  const weights: Record<string, number> = { 'k8s-h100': 3, 'slurm-a100': 2, 'slurm-cpu': 1, 'ray-cpu': 0.5, 'k8s-mixed': 1.5, 'local-mixed': 1 };
  const preemption = { reclaimWithinCohort: 'LOWER_PRIORITY', withinQueue: 'LOWER_PRIORITY' } as const;
  const queue = (id: string, placement: AdmissionQueue['placement'], ids: string[]): AdmissionQueue => ({
    id,
    name: id,
    clusters: ids.map((clusterId) => ({ clusterId, costWeight: weights[clusterId] })),
    placement,
    cohort: 'org',
    preemption,
  });
  const queues = [
    queue('gpu', 'FIRST_FIT', ['k8s-h100', 'slurm-a100', 'k8s-mixed', 'local-mixed']),
    queue('cpu', 'LEAST_LOADED', ['slurm-cpu', 'ray-cpu', 'k8s-mixed', 'local-mixed']),
    queue('batch', 'CHEAPEST', ['ray-cpu', 'slurm-cpu', 'local-mixed', 'k8s-mixed', 'slurm-a100', 'k8s-h100']),
  ];
  const total: Record<string, number> = {};
  for (const cluster of clusters) for (const [name, amount] of Object.entries(cluster.capacity)) total[name] = (total[name] ?? 0) + amount;
  const nominal = (name: string) => Math.floor(total[name] / size.projects);
  const grants: AdmissionGrant[] = Array.from({ length: size.projects }, (_, p) => {
    const quota = (amount: number): ResourceQuota => ({ nominal: amount, ...(p % 3 === 0 ? { borrowingLimit: amount } : {}) });
    const quotas = Object.fromEntries(Object.keys(total).map((name) => [name, quota(nominal(name))]));
    return { queueId: queues[p % queues.length].id, projectId: `project-${p}`, projectName: `team-${p}`, quotas };
  });
  const workload = (id: string) => {
    const project = Math.floor(random() * size.projects);
    const queueId = queues[project % queues.length].id;
    const gpu = queueId === 'gpu' || (queueId === 'batch' && random() < 0.3);
    const type = queueId === 'gpu' ? pick([H100, H100, A100, L4]) : L4;
    const request: Resources = {
      cpu: pick(gpu ? [4000, 8000] : [1000, 4000, 16_000]),
      memory: pick(gpu ? [32, 64] : [4, 16, 64]) * GiB,
      ...(gpu ? { [type]: pick([1, 2, 4, 8]) } : {}),
    };
    return { id, queueId, projectId: `project-${project}`, priority: pick([0, 100, 100, 100, 1000]), replicas: pick([1, 1, 2, 4, 8]), request };
  };
  // Admitted jobs, placed first-fit on their queue's clusters while those stay under 85% and the project under 150% of its quota.
  const onCluster = new Map(clusters.map((cluster) => [cluster.id, {} as Record<string, number>]));
  const byProject = new Map<string, Record<string, number>>();
  const admitted: AdmittedWorkload[] = [];
  const fits = (used: Record<string, number>, request: Resources, replicas: number, limit: (name: string) => number) =>
    Object.entries(request).every(([name, each]) => (used[name] ?? 0) + each * replicas <= limit(name));
  const add = (used: Record<string, number>, request: Resources, replicas: number) => {
    for (const [name, each] of Object.entries(request)) used[name] = (used[name] ?? 0) + each * replicas;
  };
  for (let n = 0; admitted.length < size.admitted && n < size.admitted * 4; n++) {
    const job = workload(`run-${n}`);
    const mine = byProject.get(job.projectId) ?? {};
    if (!fits(mine, job.request, job.replicas, (name) => 1.5 * nominal(name))) continue;
    const queueClusters = (queues.find((q) => q.id === job.queueId) as AdmissionQueue).clusters;
    const target = queueClusters
      .map(({ clusterId }) => clusters.find((c) => c.id === clusterId) as AdmissionCluster)
      .find((cluster) => fits(onCluster.get(cluster.id) ?? {}, job.request, job.replicas, (name) => 0.85 * (cluster.capacity[name] ?? 0)));
    if (!target) continue;
    add(onCluster.get(target.id) ?? {}, job.request, job.replicas);
    add(mine, job.request, job.replicas);
    byProject.set(job.projectId, mine);
    admitted.push({ ...job, admittedAt: n, clusterId: target.id });
  }
  const pending: PendingWorkload[] = Array.from({ length: size.pending }, (_, n) => {
    const job = workload(`job-${n}`);
    const createdAt = size.admitted + Math.floor(random() * 1_000_000);
    const ids = (queues.find((q) => q.id === job.queueId) as AdmissionQueue).clusters.map((c) => c.clusterId);
    const clusterIds = n % 6 === 0 ? ids.filter((id) => id !== 'local-mixed') : n % 20 === 1 ? ids.filter((id) => id.startsWith('slurm-')) : undefined;
    const gpuName = Object.keys(job.request).find((name) => name.startsWith('gpu/'));
    if (n % 5 === 0 && gpuName) {
      const anyGpu = { count: job.request[gpuName], ...(n % 10 === 0 ? { minMemoryBytes: 48 * GiB } : {}) };
      return queued(job, createdAt, without(job.request, gpuName), anyGpu, clusterIds);
    }
    return queued(job, createdAt, job.request, undefined, clusterIds);
  });
  return { clusters, queues, grants, admitted, pending };
}

/**
 * A pending job the way the admission worker builds one: an object literal of one shape, so that
 * reading its fields is as fast as in the service (rest and spread copies would give each job a
 * shape of its own, making every read in a pass, and in the floor's sort, a slow lookup).
 */
function queued(
  job: Omit<PendingWorkload, 'createdAt'>,
  createdAt: number,
  request: Resources,
  anyGpu?: PendingWorkload['anyGpu'],
  clusterIds?: readonly string[],
): PendingWorkload {
  return {
    id: job.id,
    queueId: job.queueId,
    projectId: job.projectId,
    priority: job.priority,
    replicas: job.replicas,
    request,
    createdAt,
    ...(anyGpu ? { anyGpu } : {}),
    ...(clusterIds ? { clusterIds } : {}),
  };
}

/** The request without one resource. */
const without = (request: Resources, name: string): Resources => Object.fromEntries(Object.entries(request).filter(([other]) => other !== name));

// A linear congruential generator (Numerical Recipes' constants): plenty for a scenario, no dependency.
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

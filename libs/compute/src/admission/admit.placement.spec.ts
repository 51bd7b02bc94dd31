import { admit } from './admit';
import { placementSnapshot } from './admission.scenario';
import type { AdmissionCluster, AdmissionQueue, AdmissionSnapshot, AdmittedWorkload, PendingWorkload, PlacementPolicy, PreemptionPolicy, Resources } from './admission.types';

// One queue across several clusters (issue 15): placement of whole gangs by the queue's policy.

const H100 = 'gpu/nvidia-h100';
const A100 = 'gpu/nvidia-a100';
const GiB = 1024 ** 3;
const NO_PREEMPTION: PreemptionPolicy = { reclaimWithinCohort: 'NEVER', withinQueue: 'NEVER' };
const NOTHING_PREEMPTED = '; queue gpu preempts nothing (reclaimWithinCohort NEVER, withinQueue NEVER)';

function cluster(id: string, capacity: Resources, extra: Partial<AdmissionCluster> = {}): AdmissionCluster {
  return { id, name: id, capacity, gpuMemoryBytes: { 'nvidia-h100': 80 * GiB, 'nvidia-a100': 40 * GiB }, ...extra };
}

interface Options {
  placement?: PlacementPolicy;
  /** Cluster ids in the queue's order, with cost weights. */
  order?: [string, number][];
  preemption?: PreemptionPolicy;
  clusters?: AdmissionCluster[];
  nominal?: number;
  admitted?: AdmittedWorkload[];
  pending: PendingWorkload[];
}

/** Queue gpu on k8s-a (8 H100) and hpc (16 H100), in that order; project vision has a grant of `nominal` H100 there. */
function snapshot(options: Options): AdmissionSnapshot {
  const { placement = 'FIRST_FIT', preemption = NO_PREEMPTION, nominal = 64, admitted = [], pending } = options;
  const order = options.order ?? [
    ['k8s-a', 1],
    ['hpc', 1],
  ];
  const queues: AdmissionQueue[] = [
    { id: 'gpu', name: 'gpu', clusters: order.map(([clusterId, costWeight]) => ({ clusterId, costWeight })), placement, preemption },
    { id: 'other', name: 'other', clusters: [{ clusterId: 'k8s-a', costWeight: 1 }], placement: 'FIRST_FIT', preemption: NO_PREEMPTION },
  ];
  return {
    clusters: options.clusters ?? [cluster('k8s-a', { [H100]: 8 }), cluster('hpc', { [H100]: 16 })],
    queues,
    grants: [
      { queueId: 'gpu', projectId: 'vision', quotas: { [H100]: { nominal }, [A100]: { nominal } } },
      { queueId: 'other', projectId: 'speech', quotas: { [H100]: { nominal: 8 } } },
    ],
    admitted,
    pending,
  };
}

function job(id: string, gpus: number, extra: Partial<PendingWorkload> = {}): PendingWorkload {
  return { id, queueId: 'gpu', projectId: 'vision', priority: 100, replicas: 1, request: { [H100]: gpus }, createdAt: 0, ...extra };
}

function running(id: string, clusterId: string, gpus: number, extra: Partial<AdmittedWorkload> = {}): AdmittedWorkload {
  return { id, queueId: 'gpu', projectId: 'vision', priority: 100, replicas: 1, request: { [H100]: gpus }, admittedAt: 0, clusterId, ...extra };
}

const placed = (decisions: ReturnType<typeof admit>) => decisions.admit.map((a) => [a.workloadId, a.clusterId]);

describe('admit across the clusters of a queue', () => {
  it('FIRST_FIT: places a job on the first cluster in the queue\'s order with the whole gang free, counting what other queues run there', () => {
    const decisions = admit(
      snapshot({
        admitted: [running('theirs', 'k8s-a', 6, { queueId: 'other', projectId: 'speech' })],
        pending: [job('small', 2, { createdAt: 1 }), job('big', 4, { createdAt: 2 })],
      }),
    );
    expect(placed(decisions)).toEqual([
      ['small', 'k8s-a'],
      ['big', 'hpc'],
    ]);
    expect(decisions.admit[0].placement).toBe("first of queue gpu's clusters, in order, with the whole gang free: k8s-a");
    expect(decisions.admit[1].placement).toBe("first of queue gpu's clusters, in order, with the whole gang free: hpc (k8s-a had 0/8 gpu/nvidia-h100 free)");
  });

  it('never splits a gang across clusters: 2 x 4 GPUs waits with 4 free on each, naming what each cluster lacks', () => {
    const decisions = admit(
      snapshot({
        admitted: [running('r1', 'k8s-a', 4), running('r2', 'hpc', 12)],
        pending: [job('gang', 4, { replicas: 2 })],
      }),
    );
    expect(decisions.admit).toEqual([]);
    expect(decisions.waiting).toEqual([
      {
        workloadId: 'gang',
        reason: `waiting: needs 2 replicas x 4 gpu/nvidia-h100; no cluster of queue gpu has the whole gang free: k8s-a has 4/8 gpu/nvidia-h100 free, hpc has 4/16 gpu/nvidia-h100 free${NOTHING_PREEMPTED}`,
      },
    ]);
  });

  it('says when no cluster of the queue is big enough for the gang at all', () => {
    const decisions = admit(snapshot({ pending: [job('huge', 12, { replicas: 2 })] }));
    expect(decisions.waiting).toEqual([
      { workloadId: 'huge', reason: 'waiting: needs 2 replicas x 12 gpu/nvidia-h100; no cluster of queue gpu is big enough: k8s-a has 8 gpu/nvidia-h100 in all, hpc has 16 gpu/nvidia-h100 in all' },
    ]);
  });

  it('LEAST_LOADED: places each job where the used share is lowest once it is there, as usage grows during the pass', () => {
    const decisions = admit(
      snapshot({
        placement: 'LEAST_LOADED',
        admitted: [running('r1', 'k8s-a', 2), running('r2', 'hpc', 8)],
        pending: [job('j1', 2, { createdAt: 1 }), job('j2', 2, { createdAt: 2 }), job('j3', 2, { createdAt: 3 })],
      }),
    );
    // j1: k8s-a 4/8 = 50% < hpc 10/16; j2: k8s-a 6/8 = 75% > hpc 62.5%; j3: k8s-a 75% = hpc 12/16, a tie: queue order.
    expect(placed(decisions)).toEqual([
      ['j1', 'k8s-a'],
      ['j2', 'hpc'],
      ['j3', 'k8s-a'],
    ]);
    expect(decisions.admit[1].placement).toBe("least loaded of queue gpu's clusters with the whole gang free: hpc, 63% used once placed (k8s-a 75% used once placed)");
  });

  it('CHEAPEST: places a job where cost weight x the share of the cluster it takes is lowest, ties by the queue\'s order', () => {
    const order: [string, number][] = [
      ['k8s-a', 3],
      ['hpc', 1],
    ];
    const decisions = admit(snapshot({ placement: 'CHEAPEST', order, pending: [job('j1', 4)] }));
    // k8s-a: 3 x 4/8 = 1.5; hpc: 1 x 4/16 = 0.25.
    expect(placed(decisions)).toEqual([['j1', 'hpc']]);
    expect(decisions.admit[0].placement).toBe("cheapest of queue gpu's clusters with the whole gang free: hpc, cost 1 x 25% (k8s-a cost 3 x 50%)");
    // k8s-a: 1 x 8/8 = 1; hpc: 2 x 8/16 = 1.
    const tie: [string, number][] = [
      ['k8s-a', 1],
      ['hpc', 2],
    ];
    expect(placed(admit(snapshot({ placement: 'CHEAPEST', order: tie, pending: [job('j1', 8)] })))).toEqual([['j1', 'k8s-a']]);
  });

  it('skips clusters that are not answering, and says so when none of them answers', () => {
    const clusters = [cluster('k8s-a', { [H100]: 8 }, { healthy: false }), cluster('hpc', { [H100]: 16 })];
    const decisions = admit(snapshot({ clusters, pending: [job('j1', 2)] }));
    expect(placed(decisions)).toEqual([['j1', 'hpc']]);
    expect(decisions.admit[0].placement).toBe("first of queue gpu's clusters, in order, with the whole gang free: hpc (k8s-a was not answering)");
    const down = [cluster('k8s-a', { [H100]: 8 }, { healthy: false }), cluster('hpc', { [H100]: 16 }, { healthy: false })];
    expect(admit(snapshot({ clusters: down, pending: [job('j1', 2)] })).waiting).toEqual([
      { workloadId: 'j1', reason: 'waiting: no cluster of queue gpu can take it now: k8s-a is not answering, hpc is not answering' },
    ]);
  });

  it('places a job only on the clusters that can run it (clusterIds), and says when none can', () => {
    const decisions = admit(snapshot({ pending: [job('hpc-only', 2, { clusterIds: ['hpc'] }), job('nowhere', 2, { clusterIds: [] })] }));
    expect(placed(decisions)).toEqual([['hpc-only', 'hpc']]);
    expect(decisions.admit[0].placement).toBe("first of queue gpu's clusters, in order, with the whole gang free: hpc (k8s-a could not run it)");
    expect(decisions.waiting).toEqual([{ workloadId: 'nowhere', reason: 'waiting: no cluster of queue gpu can run it' }]);
  });

  it('counts a project\'s quota across all the clusters of the queue', () => {
    const decisions = admit(
      snapshot({ nominal: 8, admitted: [running('r1', 'k8s-a', 6)], pending: [job('too-many', 4, { createdAt: 1 }), job('fits', 2, { createdAt: 2 })] }),
    );
    expect(placed(decisions)).toEqual([['fits', 'k8s-a']]);
    expect(decisions.waiting).toEqual([
      {
        workloadId: 'too-many',
        reason: 'waiting: needs 1 replica x 4 gpu/nvidia-h100 = 4; project vision uses 8/8 gpu/nvidia-h100 of its quota on queue gpu; queue gpu (no cohort) has 0 to lend',
      },
    ]);
  });

  it('resolves GPUs of any type per cluster: the first type by name with enough memory, on a cluster that has it', () => {
    const clusters = [
      cluster('k8s-a', { [A100]: 8 }, { gpuMemoryBytes: { 'nvidia-a100': 40 * GiB } }),
      cluster('hpc', { [H100]: 16 }, { gpuMemoryBytes: { 'nvidia-h100': 80 * GiB } }),
    ];
    const anyGpu = (id: string, minMemoryBytes?: number): PendingWorkload => ({ ...job(id, 0), request: {}, anyGpu: { count: 2, ...(minMemoryBytes ? { minMemoryBytes } : {}) } });
    const decisions = admit(snapshot({ clusters, pending: [anyGpu('any'), anyGpu('big-memory', 80 * GiB)] }));
    expect(decisions.admit.map(({ workloadId, clusterId, request }) => ({ workloadId, clusterId, request }))).toEqual([
      { workloadId: 'any', clusterId: 'k8s-a', request: { [A100]: 2 } },
      { workloadId: 'big-memory', clusterId: 'hpc', request: { [H100]: 2 } },
    ]);
  });

  it('preempts on the one cluster where the fewest victims make room for the whole gang, and only there', () => {
    const decisions = admit(
      snapshot({
        order: [
          ['hpc', 1],
          ['k8s-a', 1],
        ],
        preemption: { reclaimWithinCohort: 'NEVER', withinQueue: 'LOWER_PRIORITY' },
        admitted: [
          running('low-hpc-1', 'hpc', 4, { priority: 0, admittedAt: 1 }),
          running('low-hpc-2', 'hpc', 4, { priority: 0, admittedAt: 2 }),
          running('theirs', 'hpc', 8, { queueId: 'other', projectId: 'speech' }),
          running('low-k8s', 'k8s-a', 8, { priority: 0 }),
        ],
        pending: [job('urgent', 8, { priority: 1000 })],
      }),
    );
    expect(decisions.preempt).toEqual([{ workloadId: 'low-k8s', by: 'urgent', reason: 'preempted by job urgent (priority 1000 over 0 in project vision on queue gpu)' }]);
    expect(decisions.admit).toEqual([
      {
        workloadId: 'urgent',
        clusterId: 'k8s-a',
        placement: "k8s-a: of queue gpu's clusters, the one where preempting the fewest jobs (1) makes room for the whole gang",
        request: { [H100]: 8 },
        borrowing: false,
        preempts: ['low-k8s'],
      },
    ]);
  });

  it('reclaims quota from a borrower on another cluster when the job fits only where there is room', () => {
    const reclaim: PreemptionPolicy = { reclaimWithinCohort: 'ANY', withinQueue: 'NEVER' };
    const decisions = admit({
      clusters: [cluster('k8s-a', { [H100]: 8 }), cluster('hpc', { [H100]: 16 })],
      queues: [
        { id: 'gpu', name: 'gpu', clusters: [{ clusterId: 'k8s-a', costWeight: 1 }, { clusterId: 'hpc', costWeight: 1 }], placement: 'FIRST_FIT', cohort: 'c', preemption: reclaim },
        { id: 'other', name: 'other', clusters: [{ clusterId: 'k8s-a', costWeight: 1 }], placement: 'FIRST_FIT', cohort: 'c', preemption: NO_PREEMPTION },
        { id: 'third', name: 'third', clusters: [{ clusterId: 'k8s-a', costWeight: 1 }], placement: 'FIRST_FIT', preemption: NO_PREEMPTION },
      ],
      grants: [
        { queueId: 'gpu', projectId: 'vision', quotas: { [H100]: { nominal: 6 } } },
        { queueId: 'other', projectId: 'speech', quotas: { [H100]: { nominal: 0 } } },
        { queueId: 'third', projectId: 'audio', quotas: { [H100]: { nominal: 6 } } },
      ],
      // speech borrows 2 of vision's 6 on k8s-a, which audio's job fills up.
      admitted: [
        running('mine', 'hpc', 2),
        running('borrowed', 'k8s-a', 2, { queueId: 'other', projectId: 'speech' }),
        running('theirs', 'k8s-a', 6, { queueId: 'third', projectId: 'audio' }),
      ],
      pending: [job('reclaimer', 4)],
    });
    expect(decisions.preempt).toEqual([{ workloadId: 'borrowed', by: 'reclaimer', reason: 'preempted by job reclaimer (project vision reclaims its nominal quota on queue gpu)' }]);
    expect(placed(decisions)).toEqual([['reclaimer', 'hpc']]);
  });

  describe('determinism', () => {
    const big = placementSnapshot({ projects: 12, admitted: 300, pending: 2000, seed: 5 });
    const reversed = <T>(items: readonly T[]) => [...items].reverse();

    it('gives the same decisions for the same snapshot, in whatever order its lists come, using every cluster and policy', () => {
      const first = admit(big);
      expect(first.admit.length).toBeGreaterThan(0);
      expect(first.waiting.length).toBeGreaterThan(0);
      expect(new Set(first.admit.map((a) => a.clusterId)).size).toBe(big.clusters.filter((c) => c.healthy !== false).length);
      expect(new Set(big.queues.map((q) => q.placement)).size).toBe(3);
      const reordered = { ...big, clusters: reversed(big.clusters), queues: reversed(big.queues), grants: reversed(big.grants), admitted: reversed(big.admitted), pending: reversed(big.pending) };
      expect(admit(reordered)).toEqual(first);
    });

    it('decides every pending job once, places none on a cluster it may not use, and overfills no cluster', () => {
      const decisions = admit(big);
      expect(decisions.admit.length + decisions.waiting.length).toBe(big.pending.length);
      const byId = new Map(big.pending.map((job) => [job.id, job]));
      const preempted = new Set(decisions.preempt.map((p) => p.workloadId));
      const usage = new Map<string, Record<string, number>>();
      const use = (clusterId: string, request: Resources, replicas: number) => {
        const used = usage.get(clusterId) ?? {};
        for (const [name, each] of Object.entries(request)) used[name] = (used[name] ?? 0) + each * replicas;
        usage.set(clusterId, used);
      };
      for (const held of big.admitted) if (!preempted.has(held.id)) use(held.clusterId, held.request, held.replicas);
      for (const admission of decisions.admit) {
        const job = byId.get(admission.workloadId) as PendingWorkload;
        const queue = big.queues.find((q) => q.id === job.queueId) as AdmissionQueue;
        expect(queue.clusters.map((c) => c.clusterId)).toContain(admission.clusterId);
        if (job.clusterIds) expect(job.clusterIds).toContain(admission.clusterId);
        expect(big.clusters.find((c) => c.id === admission.clusterId)?.healthy).not.toBe(false);
        use(admission.clusterId, admission.request, job.replicas);
      }
      for (const [clusterId, used] of usage) {
        const { capacity } = big.clusters.find((c) => c.id === clusterId) as AdmissionCluster;
        for (const [name, amount] of Object.entries(used)) expect(amount).toBeLessThanOrEqual(capacity[name] ?? 0);
      }
    });
  });
});

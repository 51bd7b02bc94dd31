import { admit } from './admit';
import { syntheticSnapshot } from './admission.scenario';
import type {
  AdmissionGrant,
  AdmissionQueue,
  AdmissionSnapshot,
  AdmittedWorkload,
  PendingWorkload,
  PreemptionPolicy,
  ResourceQuota,
  Resources,
} from './admission.types';

const H100 = 'gpu/nvidia-h100';
const A100 = 'gpu/nvidia-a100';
const GiB = 1024 ** 3;
const onLocal = (queueName: string) => `first of queue ${queueName}'s clusters, in order, with the whole gang free: local`;
const ON_LOCAL = onLocal('gpu-a');
const afterPreempting = (victims: number) => `local, the cluster of queue gpu-a, after preempting ${victims} job${victims === 1 ? '' : 's'}`;
const NO_PREEMPTION: PreemptionPolicy = { reclaimWithinCohort: 'NEVER', withinQueue: 'NEVER' };

function queue(name: string, cohort?: string, preemption: PreemptionPolicy = NO_PREEMPTION): AdmissionQueue {
  return { id: name, name, clusters: [{ clusterId: 'local', costWeight: 1 }], placement: 'FIRST_FIT', ...(cohort ? { cohort } : {}), preemption };
}

function grant(queueId: string, project: string, quotas: Record<string, ResourceQuota>): AdmissionGrant {
  return { queueId, projectId: project, projectName: project, quotas };
}

interface JobOptions {
  replicas?: number;
  priority?: number;
  at?: number;
  queue?: string;
}

function pending(id: string, project: string, request: Resources, options: JobOptions = {}): PendingWorkload {
  const { replicas = 1, priority = 100, at = 0, queue = 'gpu-a' } = options;
  return { id, queueId: queue, projectId: project, priority, replicas, request, createdAt: at };
}

function running(id: string, project: string, request: Resources, options: JobOptions = {}): AdmittedWorkload {
  const { replicas = 1, priority = 100, at = 0, queue = 'gpu-a' } = options;
  return { id, queueId: queue, projectId: project, priority, replicas, request, admittedAt: at, clusterId: 'local' };
}

function snapshot(parts: Partial<AdmissionSnapshot> & { capacity?: Resources }): AdmissionSnapshot {
  const { capacity = { [H100]: 64, [A100]: 64 }, ...rest } = parts;
  return {
    clusters: [{ id: 'local', name: 'local', capacity, gpuMemoryBytes: { 'nvidia-h100': 80 * GiB, 'nvidia-a100': 40 * GiB } }],
    queues: [queue('gpu-a')],
    grants: [],
    admitted: [],
    pending: [],
    ...rest,
  };
}

const admittedIds = (decisions: ReturnType<typeof admit>) => decisions.admit.map((a) => a.workloadId);
const waitingIds = (decisions: ReturnType<typeof admit>) => decisions.waiting.map((w) => w.workloadId);

describe('admit', () => {
  it('admits a job that fits within its grant\'s nominal quota', () => {
    const decisions = admit(snapshot({ grants: [grant('gpu-a', 'vision', { [H100]: { nominal: 8 } })], pending: [pending('j1', 'vision', { [H100]: 4 })] }));
    expect(decisions).toEqual({ admit: [{ workloadId: 'j1', clusterId: 'local', placement: ON_LOCAL, request: { [H100]: 4 }, borrowing: false, preempts: [] }], preempt: [], waiting: [] });
  });

  it('keeps a job over nominal waiting when its queue has no cohort, saying what it uses and that nothing is lent', () => {
    const decisions = admit(
      snapshot({
        grants: [grant('gpu-a', 'vision', { [H100]: { nominal: 8 } })],
        admitted: [running('r1', 'vision', { [H100]: 8 })],
        pending: [pending('j1', 'vision', { [H100]: 4 })],
      }),
    );
    expect(decisions).toEqual({
      admit: [],
      preempt: [],
      waiting: [
        {
          workloadId: 'j1',
          reason: 'waiting: needs 1 replica x 4 gpu/nvidia-h100 = 4; project vision uses 8/8 gpu/nvidia-h100 of its quota on queue gpu-a; queue gpu-a (no cohort) has 0 to lend',
        },
      ],
    });
  });

  it('borrows idle quota of another project in the cohort, up to its borrowing limit', () => {
    const decisions = admit(
      snapshot({
        queues: [queue('gpu-a', 'gpu'), queue('gpu-b', 'gpu')],
        grants: [grant('gpu-a', 'vision', { [H100]: { nominal: 4, borrowingLimit: 2 } }), grant('gpu-b', 'speech', { [H100]: { nominal: 8 } })],
        pending: [pending('seven', 'vision', { [H100]: 7 }, { at: 1 }), pending('six', 'vision', { [H100]: 6 }, { at: 2 })],
      }),
    );
    expect(decisions.admit).toEqual([{ workloadId: 'six', clusterId: 'local', placement: ON_LOCAL, request: { [H100]: 6 }, borrowing: true, preempts: [] }]);
    expect(decisions.waiting).toEqual([
      {
        workloadId: 'seven',
        reason: 'waiting: needs 1 replica x 7 gpu/nvidia-h100 = 7; project vision uses 0/4 gpu/nvidia-h100 of its quota on queue gpu-a, and its borrowing limit is 2',
      },
    ]);
  });

  it('lends only up to the lender\'s lending limit', () => {
    const decisions = admit(
      snapshot({
        queues: [queue('gpu-a', 'gpu'), queue('gpu-b', 'gpu')],
        grants: [grant('gpu-a', 'vision', { [H100]: { nominal: 0 } }), grant('gpu-b', 'speech', { [H100]: { nominal: 8, lendingLimit: 2 } })],
        pending: [pending('big', 'vision', { [H100]: 4 }, { at: 1 }), pending('small', 'vision', { [H100]: 2 }, { at: 2 })],
      }),
    );
    expect(decisions.admit).toEqual([{ workloadId: 'small', clusterId: 'local', placement: ON_LOCAL, request: { [H100]: 2 }, borrowing: true, preempts: [] }]);
    expect(decisions.waiting).toEqual([
      { workloadId: 'big', reason: 'waiting: needs 1 replica x 4 gpu/nvidia-h100 = 4; project vision uses 0/0 gpu/nvidia-h100 of its quota on queue gpu-a; cohort gpu has 2 to lend' },
    ]);
  });

  it('still lets the lender use its unlendable part while its lendable part is borrowed', () => {
    const decisions = admit(
      snapshot({
        queues: [queue('gpu-a', 'gpu'), queue('gpu-b', 'gpu')],
        grants: [grant('gpu-a', 'vision', { [H100]: { nominal: 0 } }), grant('gpu-b', 'speech', { [H100]: { nominal: 8, lendingLimit: 2 } })],
        admitted: [running('borrowed', 'vision', { [H100]: 2 })],
        pending: [pending('own', 'speech', { [H100]: 6 }, { queue: 'gpu-b' })],
      }),
    );
    expect(decisions.admit).toEqual([{ workloadId: 'own', clusterId: 'local', placement: onLocal('gpu-b'), request: { [H100]: 6 }, borrowing: false, preempts: [] }]);
  });

  it('gives idle quota to the project with the lowest dominant share first, then alternates as shares grow', () => {
    const decisions = admit(
      snapshot({
        queues: [queue('gpu-a', 'gpu'), queue('gpu-b', 'gpu'), queue('gpu-c', 'gpu')],
        grants: [
          grant('gpu-a', 'vision', { [H100]: { nominal: 2 } }),
          grant('gpu-b', 'speech', { [H100]: { nominal: 2 } }),
          grant('gpu-c', 'idle', { [H100]: { nominal: 6 } }),
        ],
        admitted: [running('v0', 'vision', { [H100]: 2 }), running('s0', 'speech', { [H100]: 2 }, { queue: 'gpu-b' })],
        pending: [
          pending('v1', 'vision', { [H100]: 2 }, { at: 1 }),
          pending('v2', 'vision', { [H100]: 2 }, { at: 2 }),
          pending('v3', 'vision', { [H100]: 2 }, { at: 3 }),
          pending('s1', 'speech', { [H100]: 2 }, { at: 4, queue: 'gpu-b' }),
          pending('s2', 'speech', { [H100]: 2 }, { at: 5, queue: 'gpu-b' }),
        ],
      }),
    );
    // Equal shares: the older job (v1) first; then speech has the lower share (s1); equal again: v2.
    expect(admittedIds(decisions)).toEqual(['v1', 's1', 'v2']);
    expect(waitingIds(decisions)).toEqual(['s2', 'v3']);
    expect(decisions.waiting[0].reason).toBe(
      'waiting: needs 1 replica x 2 gpu/nvidia-h100 = 2; project speech uses 4/2 gpu/nvidia-h100 of its quota on queue gpu-b; cohort gpu has 0 to lend',
    );
  });

  it('lets the project with the lower dominant share borrow though the other one\'s job is older', () => {
    const decisions = admit(
      snapshot({
        queues: [queue('gpu-a', 'gpu'), queue('gpu-b', 'gpu'), queue('gpu-c', 'gpu')],
        grants: [
          grant('gpu-a', 'vision', { [H100]: { nominal: 2 }, cpu: { nominal: 8000 } }),
          grant('gpu-b', 'speech', { [H100]: { nominal: 2 }, cpu: { nominal: 8000 } }),
          grant('gpu-c', 'idle', { [H100]: { nominal: 4 }, cpu: { nominal: 16_000 } }),
        ],
        // vision's dominant share is cpu (16000/32000 = 0.5), speech's gpu (2/8 = 0.25).
        admitted: [running('v0', 'vision', { [H100]: 1, cpu: 16_000 }), running('s0', 'speech', { [H100]: 2 }, { queue: 'gpu-b' })],
        pending: [pending('v1', 'vision', { [H100]: 4 }, { at: 1 }), pending('s1', 'speech', { [H100]: 4 }, { at: 2, queue: 'gpu-b' })],
        capacity: { [H100]: 64, cpu: 64_000 },
      }),
    );
    expect(admittedIds(decisions)).toEqual(['s1']);
    expect(waitingIds(decisions)).toEqual(['v1']);
  });

  it('admits a gang only when every replica fits: 2 x 4 GPUs waits with 6 free though one replica would fit', () => {
    const decisions = admit(
      snapshot({
        capacity: { [H100]: 8 },
        queues: [queue('gpu-a'), queue('gpu-b')],
        grants: [grant('gpu-a', 'vision', { [H100]: { nominal: 16 } }), grant('gpu-b', 'speech', { [H100]: { nominal: 2 } })],
        admitted: [running('other', 'speech', { [H100]: 2 }, { queue: 'gpu-b' })],
        pending: [pending('gang', 'vision', { [H100]: 4 }, { replicas: 2, at: 1 }), pending('single', 'vision', { [H100]: 4 }, { at: 2 })],
      }),
    );
    expect(decisions.admit).toEqual([{ workloadId: 'single', clusterId: 'local', placement: ON_LOCAL, request: { [H100]: 4 }, borrowing: false, preempts: [] }]);
    expect(decisions.waiting).toEqual([
      {
        workloadId: 'gang',
        reason: 'waiting: needs 2 replicas x 4 gpu/nvidia-h100 = 8, cluster local has 6 free of 8; queue gpu-a preempts nothing (reclaimWithinCohort NEVER, withinQueue NEVER)',
      },
    ]);
  });

  it('caps everything at the cluster\'s capacity, whatever the quotas', () => {
    const decisions = admit(
      snapshot({
        capacity: { [H100]: 8 },
        queues: [queue('gpu-a'), queue('gpu-b')],
        grants: [grant('gpu-a', 'vision', { [H100]: { nominal: 16 } }), grant('gpu-b', 'speech', { [H100]: { nominal: 8 } })],
        pending: [
          pending('huge', 'vision', { [H100]: 12 }, { at: 1 }),
          pending('eight', 'vision', { [H100]: 8 }, { at: 2 }),
          pending('other', 'speech', { [H100]: 1 }, { at: 3, queue: 'gpu-b' }),
        ],
      }),
    );
    expect(admittedIds(decisions)).toEqual(['eight']);
    expect(decisions.waiting).toEqual([
      { workloadId: 'huge', reason: 'waiting: needs 1 replica x 12 gpu/nvidia-h100 = 12, cluster local has 8 in all' },
      {
        workloadId: 'other',
        reason: 'waiting: needs 1 replica x 1 gpu/nvidia-h100 = 1, cluster local has 0 free of 8; queue gpu-b preempts nothing (reclaimWithinCohort NEVER, withinQueue NEVER)',
      },
    ]);
  });

  it('treats GPU types as separate resources', () => {
    const decisions = admit(
      snapshot({ grants: [grant('gpu-a', 'vision', { [H100]: { nominal: 8 } })], pending: [pending('a100', 'vision', { [A100]: 1 })] }),
    );
    expect(decisions.waiting).toEqual([
      { workloadId: 'a100', reason: 'waiting: needs 1 replica x 1 gpu/nvidia-a100 = 1; project vision uses 0/0 gpu/nvidia-a100 of its quota on queue gpu-a; queue gpu-a (no cohort) has 0 to lend' },
    ]);
  });

  it('places GPUs of any type on the first type by name that fits, with enough memory', () => {
    const anyGpu = (id: string, count: number, minMemoryBytes?: number): PendingWorkload => ({
      ...pending(id, 'vision', { cpu: 1000 }),
      anyGpu: { count, ...(minMemoryBytes ? { minMemoryBytes } : {}) },
    });
    const decisions = admit(
      snapshot({
        capacity: { cpu: 64_000, [H100]: 8, [A100]: 8 },
        grants: [grant('gpu-a', 'vision', { cpu: { nominal: 64_000 }, [A100]: { nominal: 2 }, [H100]: { nominal: 8 } })],
        pending: [{ ...anyGpu('small', 2), id: 'a' }, { ...anyGpu('more', 4), id: 'b' }, { ...anyGpu('big-memory', 1, 80 * GiB), id: 'c' }, { ...anyGpu('too-big', 1, 100 * GiB), id: 'd' }],
      }),
    );
    expect(decisions.admit).toEqual([
      { workloadId: 'a', clusterId: 'local', placement: ON_LOCAL, request: { cpu: 1000, [A100]: 2 }, borrowing: false, preempts: [] },
      { workloadId: 'b', clusterId: 'local', placement: ON_LOCAL, request: { cpu: 1000, [H100]: 4 }, borrowing: false, preempts: [] },
      { workloadId: 'c', clusterId: 'local', placement: ON_LOCAL, request: { cpu: 1000, [H100]: 1 }, borrowing: false, preempts: [] },
    ]);
    expect(decisions.waiting).toEqual([
      { workloadId: 'd', reason: 'waiting: needs 1 GPU(s) per replica with at least 100 GiB memory each, no GPU type of cluster local has that much' },
    ]);
  });

  it('admits by priority, then by submission time, then by id', () => {
    const decisions = admit(
      snapshot({
        grants: [grant('gpu-a', 'vision', { [H100]: { nominal: 4 } })],
        pending: [
          pending('old-low', 'vision', { [H100]: 2 }, { priority: 0, at: 1 }),
          pending('b-new-high', 'vision', { [H100]: 2 }, { priority: 1000, at: 5 }),
          pending('a-new-high', 'vision', { [H100]: 2 }, { priority: 1000, at: 5 }),
        ],
      }),
    );
    expect(admittedIds(decisions)).toEqual(['a-new-high', 'b-new-high']);
    expect(waitingIds(decisions)).toEqual(['old-low']);
  });

  it('keeps that order whatever the submission times: fractions, epoch milliseconds spread over decades, equal times', () => {
    const order = (times: number[]) =>
      admittedIds(
        admit(
          snapshot({
            grants: [grant('gpu-a', 'vision', { [H100]: { nominal: 64 } })],
            pending: times.map((at, n) => pending(`j${n}`, 'vision', { [H100]: 1 }, { at, priority: n % 2 ? 0 : 100 })),
          }),
        ),
      );
    expect(order([3, 1.5, 2, 1.5, 1])).toEqual(['j4', 'j2', 'j0', 'j1', 'j3']);
    expect(order([1_764_000_000_000, 1_000, 9_000_000_000_000_000, 5, 5])).toEqual(['j4', 'j0', 'j2', 'j3', 'j1']);
  });

  it('says when a project has no grant on the queue', () => {
    const decisions = admit(snapshot({ pending: [pending('j1', 'vision', { [H100]: 1 })] }));
    expect(decisions.waiting).toEqual([{ workloadId: 'j1', reason: 'waiting: project vision has no grant on queue gpu-a; an admin can grant it quota there' }]);
  });

  describe('preemption', () => {
    // vision owns 8 GPUs of the cohort and runs 4; speech (nominal 2) borrows the other 4 of them.
    const reclaimSnapshot = (policy: PreemptionPolicy, pendingJobs: PendingWorkload[]) =>
      snapshot({
        queues: [queue('gpu-a', 'gpu', policy), queue('gpu-b', 'gpu')],
        grants: [grant('gpu-a', 'vision', { [H100]: { nominal: 8 } }), grant('gpu-b', 'speech', { [H100]: { nominal: 2 } })],
        admitted: [
          running('v0', 'vision', { [H100]: 4 }),
          running('s-low', 'speech', { [H100]: 2 }, { priority: 0, at: 0, queue: 'gpu-b' }),
          running('s-old', 'speech', { [H100]: 2 }, { at: 1, queue: 'gpu-b' }),
          running('s-new', 'speech', { [H100]: 2 }, { at: 2, queue: 'gpu-b' }),
        ],
        pending: pendingJobs,
      });
    const ANY: PreemptionPolicy = { reclaimWithinCohort: 'ANY', withinQueue: 'NEVER' };
    const LOWER: PreemptionPolicy = { reclaimWithinCohort: 'LOWER_PRIORITY', withinQueue: 'NEVER' };
    const reclaimed = (victim: string, by: string) => ({
      workloadId: victim,
      by,
      reason: `preempted by job ${by} (project vision reclaims its nominal quota on queue gpu-a)`,
    });

    it('reclaims nominal quota from borrowers, lowest priority first, then the newest, one victim per job needing it', () => {
      const decisions = admit(reclaimSnapshot(ANY, [pending('v1', 'vision', { [H100]: 2 }, { at: 1 }), pending('v2', 'vision', { [H100]: 2 }, { at: 2 })]));
      expect(decisions.admit).toEqual([
        { workloadId: 'v1', clusterId: 'local', placement: afterPreempting(1), request: { [H100]: 2 }, borrowing: false, preempts: ['s-low'] },
        { workloadId: 'v2', clusterId: 'local', placement: afterPreempting(1), request: { [H100]: 2 }, borrowing: false, preempts: ['s-new'] },
      ]);
      expect(decisions.preempt).toEqual([reclaimed('s-low', 'v1'), reclaimed('s-new', 'v2')]);
    });

    it('preempts only as many as needed, sparing a victim tried first that the job turns out not to need', () => {
      const decisions = admit(
        snapshot({
          queues: [queue('gpu-a', 'gpu', ANY), queue('gpu-b', 'gpu')],
          grants: [grant('gpu-a', 'vision', { [H100]: { nominal: 8 } }), grant('gpu-b', 'speech', { [H100]: { nominal: 0 } })],
          admitted: [
            running('v0', 'vision', { [H100]: 4 }),
            running('s-small', 'speech', { [H100]: 1 }, { priority: 0, queue: 'gpu-b' }),
            running('s-big', 'speech', { [H100]: 3 }, { priority: 100, queue: 'gpu-b' }),
          ],
          pending: [pending('v1', 'vision', { [H100]: 3 })],
        }),
      );
      expect(decisions.preempt).toEqual([reclaimed('s-big', 'v1')]);
      expect(decisions.admit).toEqual([{ workloadId: 'v1', clusterId: 'local', placement: afterPreempting(1), request: { [H100]: 3 }, borrowing: false, preempts: ['s-big'] }]);
    });

    it('preempts nothing under reclaimWithinCohort NEVER, and says so', () => {
      const decisions = admit(reclaimSnapshot(NO_PREEMPTION, [pending('v1', 'vision', { [H100]: 2 })]));
      expect(decisions).toEqual({
        admit: [],
        preempt: [],
        waiting: [
          {
            workloadId: 'v1',
            reason:
              'waiting: needs 1 replica x 2 gpu/nvidia-h100 = 2; project vision uses 4/8 gpu/nvidia-h100 of its quota on queue gpu-a, and cohort gpu has lent the rest to other projects; queue gpu-a preempts nothing (reclaimWithinCohort NEVER, withinQueue NEVER)',
          },
        ],
      });
    });

    it('under LOWER_PRIORITY preempts only borrowers of lower priority, and none when those would not make room', () => {
      expect(admit(reclaimSnapshot(LOWER, [pending('v1', 'vision', { [H100]: 2 })])).preempt).toEqual([reclaimed('s-low', 'v1')]);
      const decisions = admit(reclaimSnapshot(LOWER, [pending('v1', 'vision', { [H100]: 4 })]));
      expect(decisions.preempt).toEqual([]);
      expect(decisions.waiting).toEqual([
        {
          workloadId: 'v1',
          reason:
            'waiting: needs 1 replica x 4 gpu/nvidia-h100 = 4; project vision uses 4/8 gpu/nvidia-h100 of its quota on queue gpu-a, and cohort gpu has lent the rest to other projects; preempting what queue gpu-a allows would not make room (reclaimWithinCohort LOWER_PRIORITY, withinQueue NEVER)',
        },
      ]);
    });

    it('under ANY preempts borrowers of any priority', () => {
      const decisions = admit(reclaimSnapshot(ANY, [pending('v1', 'vision', { [H100]: 4 })]));
      expect(decisions.preempt).toEqual([reclaimed('s-low', 'v1'), reclaimed('s-new', 'v1')]);
    });

    it('never preempts for a job that would still not fit: the cluster is full with another cohort\'s jobs', () => {
      const decisions = admit(
        snapshot({
          capacity: { [H100]: 8 },
          queues: [queue('gpu-a', 'gpu', ANY), queue('gpu-b', 'gpu'), queue('other')],
          grants: [
            grant('gpu-a', 'vision', { [H100]: { nominal: 8 } }),
            grant('gpu-b', 'speech', { [H100]: { nominal: 0 } }),
            grant('other', 'audio', { [H100]: { nominal: 6 } }),
          ],
          admitted: [running('s1', 'speech', { [H100]: 2 }, { queue: 'gpu-b' }), running('o1', 'audio', { [H100]: 6 }, { queue: 'other' })],
          pending: [pending('v1', 'vision', { [H100]: 4 })],
        }),
      );
      expect(decisions).toEqual({
        admit: [],
        preempt: [],
        waiting: [
          {
            workloadId: 'v1',
            reason:
              'waiting: needs 1 replica x 4 gpu/nvidia-h100 = 4, cluster local has 0 free of 8; preempting what queue gpu-a allows would not make room (reclaimWithinCohort ANY, withinQueue NEVER)',
          },
        ],
      });
    });

    it('does not reclaim for a job that would take its project past its nominal quota', () => {
      const decisions = admit(reclaimSnapshot(ANY, [pending('v1', 'vision', { [H100]: 6 })]));
      expect(decisions.preempt).toEqual([]);
      expect(decisions.waiting).toEqual([
        { workloadId: 'v1', reason: 'waiting: needs 1 replica x 6 gpu/nvidia-h100 = 6; project vision uses 4/8 gpu/nvidia-h100 of its quota on queue gpu-a; cohort gpu has 0 to lend' },
      ]);
    });

    it('does not take from a borrower once it is back within its nominal quota', () => {
      const decisions = admit(reclaimSnapshot(ANY, [pending('v1', 'vision', { [H100]: 4 }, { at: 1 }), pending('v2', 'vision', { [H100]: 2 }, { at: 2 })]));
      expect(decisions.preempt).toEqual([reclaimed('s-low', 'v1'), reclaimed('s-new', 'v1')]);
      expect(waitingIds(decisions)).toEqual(['v2']);
    });

    describe('within a queue', () => {
      const ownSnapshot = (withinQueue: PreemptionPolicy['withinQueue'], priority: number) =>
        snapshot({
          queues: [queue('gpu-a', undefined, { reclaimWithinCohort: 'NEVER', withinQueue })],
          grants: [grant('gpu-a', 'vision', { [H100]: { nominal: 4 } })],
          admitted: [running('low', 'vision', { [H100]: 2 }, { priority: 0, at: 1 }), running('normal', 'vision', { [H100]: 2 }, { priority: 100, at: 2 })],
          pending: [pending('urgent', 'vision', { [H100]: 2 }, { priority })],
        });

      it('lets a higher-priority job preempt a lower-priority one of its own grant under LOWER_PRIORITY', () => {
        const decisions = admit(ownSnapshot('LOWER_PRIORITY', 1000));
        expect(decisions.preempt).toEqual([{ workloadId: 'low', by: 'urgent', reason: 'preempted by job urgent (priority 1000 over 0 in project vision on queue gpu-a)' }]);
        expect(decisions.admit).toEqual([{ workloadId: 'urgent', clusterId: 'local', placement: afterPreempting(1), request: { [H100]: 2 }, borrowing: false, preempts: ['low'] }]);
      });

      it('does not preempt a job of the same priority', () => {
        expect(admit(ownSnapshot('LOWER_PRIORITY', 0)).preempt).toEqual([]);
      });

      it('does not preempt under NEVER', () => {
        const decisions = admit(ownSnapshot('NEVER', 1000));
        expect(decisions.preempt).toEqual([]);
        expect(waitingIds(decisions)).toEqual(['urgent']);
      });
    });
  });

  describe('determinism', () => {
    const big = syntheticSnapshot({ projects: 20, queues: 4, admitted: 300, pending: 2000, seed: 7 });
    const shuffled = <T>(items: readonly T[]) => items.map((item, n) => ({ item, key: (n * 7919) % items.length })).sort((a, b) => a.key - b.key).map(({ item }) => item);

    it('gives the same decisions for the same snapshot, in whatever order its lists come', () => {
      const first = admit(big);
      expect(first.admit.length).toBeGreaterThan(0);
      expect(first.waiting.length).toBeGreaterThan(0);
      expect(first.preempt.length).toBeGreaterThan(0);
      expect(admit(big)).toEqual(first);
      const reordered = { ...big, grants: shuffled(big.grants).reverse(), admitted: shuffled(big.admitted), pending: shuffled(big.pending).reverse() };
      expect(admit(reordered)).toEqual(first);
    });

    it('decides every pending job exactly once and never preempts one twice', () => {
      const decisions = admit(big);
      const decided = [...admittedIds(decisions), ...waitingIds(decisions)];
      expect(new Set(decided).size).toBe(big.pending.length);
      expect(decided.length).toBe(big.pending.length);
      expect(new Set(decisions.preempt.map((p) => p.workloadId)).size).toBe(decisions.preempt.length);
    });
  });
});

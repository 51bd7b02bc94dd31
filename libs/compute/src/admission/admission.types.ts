/**
 * A resource name: `cpu` (millicores), `memory` (bytes), or `gpu/<type>` (a count of GPUs of one
 * type, the type as the cluster reports it, e.g. `gpu/nvidia-h100`). GPU types are separate
 * resources: quota of one type never admits a job that asks for another.
 */
export type ResourceName = string;

/** Integer amounts by resource name; a name that is absent is 0. */
export type Resources = Readonly<Record<ResourceName, number>>;

/** A grant's quota of one resource. */
export interface ResourceQuota {
  /** What the project may always use, reclaiming it from borrowers when they hold it. */
  nominal: number;
  /** How much above `nominal` the project may borrow from the cohort's idle quota; absent: no limit. */
  borrowingLimit?: number;
  /** How much of the project's idle `nominal` the cohort may borrow; absent: all of it. */
  lendingLimit?: number;
}

/** A cluster as admission sees it: an upper bound on what all of its queues may use together. */
export interface AdmissionCluster {
  /** The cluster's id (its plugin instance id). */
  id: string;
  /** The name people know it by, used in reasons. */
  name: string;
  /** Everything the cluster has (`cpu`, `memory`, `gpu/<type>`); a resource it lacks is 0. */
  capacity: Resources;
  /** Memory of each GPU in bytes, by GPU type (the `<type>` of `gpu/<type>`); to place untyped GPU requests. */
  gpuMemoryBytes: Readonly<Record<string, number>>;
  /** false: the cluster is not answering; nothing new is placed on it (what runs there still counts). Absent: true. */
  healthy?: boolean;
}

/**
 * How a queue picks one of its clusters for a job, among those with the whole gang free:
 * FIRST_FIT the first in the queue's order; LEAST_LOADED the lowest dominant used share (used /
 * capacity over the resources the job asks for) once the job is placed; CHEAPEST the lowest
 * costWeight x the dominant share of the cluster the job takes. Ties go by the queue's order.
 */
export type PlacementPolicy = 'FIRST_FIT' | 'LEAST_LOADED' | 'CHEAPEST';

/** One of a queue's clusters. */
export interface AdmissionQueueCluster {
  /** The `AdmissionCluster.id`. */
  clusterId: string;
  /** Relative cost for CHEAPEST, > 0 (the proto's 0 means 1). */
  costWeight: number;
}

/** Whether a job that reclaims its grant's nominal quota may preempt borrowers in the cohort (Kueue's meanings). */
export type ReclaimWithinCohort = 'NEVER' | 'LOWER_PRIORITY' | 'ANY';

/** Whether a job may preempt lower-priority jobs of its own grant (same project, same queue). */
export type WithinQueue = 'NEVER' | 'LOWER_PRIORITY';

/** A queue's preemption policy. */
export interface PreemptionPolicy {
  /** NEVER; LOWER_PRIORITY: only borrowers of lower priority; ANY: borrowers of any priority. */
  reclaimWithinCohort: ReclaimWithinCohort;
  /** NEVER, or LOWER_PRIORITY: a job may preempt lower-priority jobs of its own grant. */
  withinQueue: WithinQueue;
}

/** A queue: on one or more clusters, in one cohort, with a placement and a preemption policy. */
export interface AdmissionQueue {
  id: string;
  /** The name people know it by, used in reasons. */
  name: string;
  /** The clusters it places jobs on, in order of preference (FIRST_FIT's order, the tie-break of the others). */
  clusters: readonly AdmissionQueueCluster[];
  placement: PlacementPolicy;
  /** Queues with the same cohort lend idle quota to each other; absent: the queue alone is its cohort. */
  cohort?: string;
  preemption: PreemptionPolicy;
}

/** A project's grant on a queue: its quota per resource. A resource it has no quota of has nominal 0. */
export interface AdmissionGrant {
  /** The `AdmissionQueue.id`. */
  queueId: string;
  projectId: string;
  /** The name people know the project by, used in reasons; absent: the id. */
  projectName?: string;
  quotas: Readonly<Record<ResourceName, ResourceQuota>>;
}

/** What every workload (a job, as admission sees it) has. */
export interface Workload {
  /** The job id; ties in every ordering are broken by it. */
  id: string;
  /** The `AdmissionQueue.id` it was submitted to. */
  queueId: string;
  projectId: string;
  /** The priority class's value; higher goes first. */
  priority: number;
  /** How many replicas; all of them are admitted together or none (gang). An integer, 1 or more. */
  replicas: number;
  /** What one replica needs (`cpu`, `memory`, `gpu/<type>`). */
  request: Resources;
}

/** A job waiting for admission. */
export interface PendingWorkload extends Workload {
  /** Submission time in epoch milliseconds: first come, first served within a priority. */
  createdAt: number;
  /**
   * GPUs per replica of whatever type the cluster it is placed on has (at least `minMemoryBytes` each):
   * admission picks the first type by name where the whole job fits, and reports it in
   * `Admission.request`.
   */
  anyGpu?: { count: number; minMemoryBytes?: number };
  /** The `clusterId`s of the queue's clusters that can run it (their backend accepts its spec); absent: all of them. */
  clusterIds?: readonly string[];
}

/** A job holding quota (admitted, starting or running). */
export interface AdmittedWorkload extends Workload {
  /** When it was admitted, in epoch milliseconds: preemption takes the newest first. */
  admittedAt: number;
  /** The `AdmissionCluster.id` it was placed on: its usage counts against that cluster. */
  clusterId: string;
}

/** Everything one admission pass decides on. */
export interface AdmissionSnapshot {
  clusters: readonly AdmissionCluster[];
  queues: readonly AdmissionQueue[];
  grants: readonly AdmissionGrant[];
  /** Jobs holding quota now; their usage counts against grants, cohorts and clusters. */
  admitted: readonly AdmittedWorkload[];
  pending: readonly PendingWorkload[];
}

/** A pending job to admit. */
export interface Admission {
  workloadId: string;
  /** The `AdmissionCluster.id` to run it on. */
  clusterId: string;
  /** Why that cluster, for `Attempt.placement`: the policy, and what the clusters passed over lacked. */
  placement: string;
  /** What one replica gets: the job's request with `anyGpu` resolved to a `gpu/<type>`; record it as the admitted request. */
  request: Resources;
  /** Whether its grant uses more than its nominal quota of some resource once this job is admitted. */
  borrowing: boolean;
  /** Ids of the admitted jobs this admission preempts (listed in `AdmissionDecisions.preempt`); empty when none. */
  preempts: readonly string[];
}

/** An admitted job to preempt: release its quota, cancel it on the backend, queue it again. */
export interface Preemption {
  workloadId: string;
  /** The job it makes room for. */
  by: string;
  /** `preempted by job <id> (...)`, for the job's reason. */
  reason: string;
}

/** A pending job that stays queued this pass. */
export interface Waiting {
  workloadId: string;
  /** `waiting: ...`: what it needs and what stands in the way, in words a person can act on. */
  reason: string;
}

/**
 * The outcome of one pass. Every pending job is in exactly one of `admit` and `waiting`; each list
 * is in decision order, and the same snapshot always gives the same decisions.
 */
export interface AdmissionDecisions {
  admit: readonly Admission[];
  preempt: readonly Preemption[];
  waiting: readonly Waiting[];
}

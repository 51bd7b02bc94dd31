import type {
  AdmissionCluster,
  AdmissionGrant,
  AdmissionQueue,
  AdmissionSnapshot,
  AdmittedWorkload,
  PendingWorkload,
  Resources,
} from './admission.types';

// One pass works on dense vectors indexed by resource (names sorted), built once from the snapshot,
// so every fit check is a few array reads instead of map lookups.

/** Amounts of some resources: `index[i]` is the resource, `amount[i]` the whole job's amount of it. */
export interface Demand {
  /** Resource indices, ascending. */
  index: number[];
  amount: number[];
  /** Bit i set for each resource i in `index` (resources 0-29), or -1 past those: same mask, same resources. */
  mask: number;
  replicas: number;
  /** The request per replica this demand stands for (`anyGpu` resolved). */
  request: Resources;
}

export interface ClusterState {
  cluster: AdmissionCluster;
  capacity: number[];
  usage: number[];
  /** Counts changes to the cluster's usage. */
  version: number;
  /** GPU types, by name. */
  gpuTypes: string[];
}

export interface CohortState {
  /** `cohort <name>`, or `queue <name> (no cohort)`: how reasons name it. */
  label: string;
  grants: GrantState[];
  /** Σ lendable nominal (min(lendingLimit, nominal)) over the cohort's grants. */
  poolCapacity: number[];
  /** Counts changes to the cohort's usage, so texts about it can be reused until it changes. */
  version: number;
  /** Σ over grants of what each uses beyond its unlendable part. */
  poolUsage: number[];
  /** Σ nominal over the cohort's grants: the denominator of dominant shares. */
  nominalTotal: number[];
  /** Admitted jobs of the cohort, in victim order (lowest priority, then newest, then id). */
  admitted: AdmittedEntry[];
}

export interface GrantState {
  order: number;
  grant: AdmissionGrant;
  queue: AdmissionQueue;
  cluster: ClusterState;
  cohort: CohortState;
  nominal: number[];
  /** nominal - lendable: the part of nominal the cohort never borrows. */
  guaranteed: number[];
  /** nominal + borrowingLimit (Infinity without a limit). */
  ceiling: number[];
  usage: number[];
  /** Admitted jobs of the grant, in victim order. */
  admitted: AdmittedEntry[];
}

export interface AdmittedEntry {
  workload: AdmittedWorkload;
  grant: GrantState;
  demand: Demand;
  preempted: boolean;
}

export interface PassState {
  resources: string[];
  resourceIndex: Map<string, number>;
  clusters: Map<string, ClusterState>;
  queues: Map<string, AdmissionQueue>;
  /** Grants by queue id, then project id. */
  grants: Map<string, Map<string, GrantState>>;
  /** Grants in order (queue id, then project id). */
  grantList: GrantState[];
  cohorts: CohortState[];
}

/** The grant of a project on a queue, if there is one. */
export const grantOf = (state: PassState, queueId: string, projectId: string) => state.grants.get(queueId)?.get(projectId);

/** Victim order: lowest priority first, then the newest admitted, then by id. */
export function byVictimOrder(a: AdmittedEntry, b: AdmittedEntry): number {
  const x = a.workload;
  const y = b.workload;
  return x.priority - y.priority || y.admittedAt - x.admittedAt || compareIds(x.id, y.id);
}

/** Admission order: highest priority first, then the oldest, then by id. */
export function byAdmissionOrder(a: PendingWorkload, b: PendingWorkload): number {
  return b.priority - a.priority || a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export const compareIds = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Builds the dense state of one pass: usage per grant, cohort and cluster counted once. */
export function buildPassState(snapshot: AdmissionSnapshot): PassState {
  const resources = resourceNames(snapshot);
  const resourceIndex = new Map(resources.map((name, i) => [name, i]));
  const vector = (amounts: Resources | undefined) => resources.map((name) => amounts?.[name] ?? 0);

  const clusters = new Map<string, ClusterState>();
  for (const cluster of snapshot.clusters) {
    const gpuTypes = Object.keys(cluster.gpuMemoryBytes).sort(compareIds);
    clusters.set(cluster.id, { cluster, capacity: vector(cluster.capacity), usage: vector(undefined), version: 0, gpuTypes });
  }
  const queues = new Map(snapshot.queues.map((queue) => [queue.id, queue]));

  const cohortsByName = new Map<string, CohortState>();
  const grants = new Map<string, Map<string, GrantState>>();
  const grantList: GrantState[] = [];
  const sortedGrants = [...snapshot.grants].sort((a, b) => compareIds(a.queueId, b.queueId) || compareIds(a.projectId, b.projectId));
  for (const grant of sortedGrants) {
    const queue = queues.get(grant.queueId);
    const cluster = queue && clusters.get(queue.clusters[0]?.clusterId);
    if (!queue || !cluster) continue;
    const cohortName = queue.cohort ? `cohort\u0000${queue.cohort}` : `queue\u0000${queue.id}`;
    let cohort = cohortsByName.get(cohortName);
    if (!cohort) {
      const label = queue.cohort ? `cohort ${queue.cohort}` : `queue ${queue.name} (no cohort)`;
      cohort = { label, grants: [], poolCapacity: vector(undefined), version: 0, poolUsage: vector(undefined), nominalTotal: vector(undefined), admitted: [] };
      cohortsByName.set(cohortName, cohort);
    }
    const nominal = vector(undefined);
    const guaranteed = vector(undefined);
    const ceiling = vector(undefined).fill(Infinity);
    for (const [i, name] of resources.entries()) {
      const quota = grant.quotas[name];
      if (!quota) continue;
      nominal[i] = quota.nominal;
      const lendable = Math.min(quota.lendingLimit ?? quota.nominal, quota.nominal);
      guaranteed[i] = quota.nominal - lendable;
      ceiling[i] = quota.borrowingLimit === undefined ? Infinity : quota.nominal + quota.borrowingLimit;
      cohort.poolCapacity[i] += lendable;
      cohort.nominalTotal[i] += quota.nominal;
    }
    const state: GrantState = { order: grantList.length, grant, queue, cluster, cohort, nominal, guaranteed, ceiling, usage: vector(undefined), admitted: [] };
    cohort.grants.push(state);
    grantList.push(state);
    const ofQueue = grants.get(grant.queueId) ?? new Map<string, GrantState>();
    grants.set(grant.queueId, ofQueue.set(grant.projectId, state));
  }

  for (const workload of snapshot.admitted) {
    const demand = demandOf(workload.request, workload.replicas, resourceIndex);
    const grant = grants.get(workload.queueId)?.get(workload.projectId);
    if (grant) {
      const entry: AdmittedEntry = { workload, grant, demand, preempted: false };
      grant.admitted.push(entry);
      grant.cohort.admitted.push(entry);
      take(grant, demand);
    } else {
      // Quota gone (grant deleted) but the job still runs: it still fills its cluster.
      const cluster = clusters.get(workload.clusterId);
      if (cluster) addTo(cluster.usage, demand, 1);
    }
  }
  const cohorts = [...cohortsByName.entries()].sort(([a], [b]) => compareIds(a, b)).map(([, cohort]) => cohort);
  for (const cohort of cohorts) cohort.admitted.sort(byVictimOrder);
  for (const grant of grantList) grant.admitted.sort(byVictimOrder);
  return { resources, resourceIndex, clusters, queues, grants, grantList, cohorts };
}

/** The demand of `replicas` x `request`, over the pass's resources; zero amounts left out. */
export function demandOf(request: Resources, replicas: number, resourceIndex: Map<string, number>): Demand {
  // Arrays of the exact size, filled by insertion to keep `index` ascending: a pass makes one per job.
  const names = Object.keys(request);
  let size = 0;
  for (const name of names) if (request[name] !== 0) size++;
  const index = new Array<number>(size);
  const amount = new Array<number>(size);
  let mask = 0;
  let filled = 0;
  for (const name of names) {
    if (request[name] === 0) continue;
    const i = resourceIndex.get(name);
    if (i === undefined) throw new Error(`resource ${name} is not one of the pass's resources`);
    let k = filled++;
    for (; k > 0 && index[k - 1] > i; k--) {
      index[k] = index[k - 1];
      amount[k] = amount[k - 1];
    }
    index[k] = i;
    amount[k] = request[name] * replicas;
    mask = mask >= 0 && i < 30 ? mask | (1 << i) : -1;
  }
  return { index, amount, mask, replicas, request };
}

/** What `usage` counts in the cohort's pool: everything beyond the grant's unlendable part. */
const pooled = (usage: number, guaranteed: number) => (usage > guaranteed ? usage - guaranteed : 0);

/** Adds (sign 1) or removes (sign -1) a demand from a grant, its cohort's pool and its cluster. */
function account(grant: GrantState, demand: Demand, sign: 1 | -1): void {
  const { usage, guaranteed, cohort } = grant;
  cohort.version++;
  grant.cluster.version++;
  for (let k = 0; k < demand.index.length; k++) {
    const i = demand.index[k];
    const before = usage[i];
    const after = before + sign * demand.amount[k];
    usage[i] = after;
    cohort.poolUsage[i] += pooled(after, guaranteed[i]) - pooled(before, guaranteed[i]);
  }
  addTo(grant.cluster.usage, demand, sign);
}

export const take = (grant: GrantState, demand: Demand) => account(grant, demand, 1);
export const release = (grant: GrantState, demand: Demand) => account(grant, demand, -1);

function addTo(usage: number[], demand: Demand, sign: 1 | -1): void {
  for (let k = 0; k < demand.index.length; k++) usage[demand.index[k]] += sign * demand.amount[k];
}

/** Whether the grant's usage plus the demand stays within its nominal quota of every resource. */
export function withinNominal(grant: GrantState, demand: Demand): boolean {
  for (let k = 0; k < demand.index.length; k++) {
    const i = demand.index[k];
    if (grant.usage[i] + demand.amount[k] > grant.nominal[i]) return false;
  }
  return true;
}

/** Whether the grant uses more than its nominal of any resource the demand names. */
export function borrowsAny(grant: GrantState, demand: Demand): boolean {
  for (const i of demand.index) if (grant.usage[i] > grant.nominal[i]) return true;
  return false;
}

/** The grant's dominant share: its largest usage / the cohort's nominal total over resources. */
export function dominantShare(grant: GrantState): number {
  const { usage } = grant;
  const total = grant.cohort.nominalTotal;
  let share = 0;
  for (let i = 0; i < usage.length; i++) if (total[i] > 0 && usage[i] / total[i] > share) share = usage[i] / total[i];
  return share;
}

/** What stops a demand from fitting, or undefined when it fits. */
export type Shortfall =
  | { kind: 'cluster-total'; at: number }
  | { kind: 'borrowing-limit'; at: number }
  | { kind: 'cohort'; at: number }
  | { kind: 'cluster-free'; at: number };

/**
 * Whether all of the demand fits at once (gang): each resource within the grant's nominal plus
 * borrowing limit, within the cohort's lendable pool, and within the cluster's free capacity. The
 * first shortfall found names what stands in the way, a cluster too small for it before anything else.
 */
export function shortfall(grant: GrantState, demand: Demand): Shortfall | undefined {
  const { capacity, usage: clusterUsage } = grant.cluster;
  const { poolCapacity, poolUsage } = grant.cohort;
  for (let k = 0; k < demand.index.length; k++) if (demand.amount[k] > capacity[demand.index[k]]) return { kind: 'cluster-total', at: k };
  for (let k = 0; k < demand.index.length; k++) {
    const i = demand.index[k];
    const before = grant.usage[i];
    const after = before + demand.amount[k];
    if (after > grant.ceiling[i]) return { kind: 'borrowing-limit', at: k };
    const pool = poolUsage[i] - pooled(before, grant.guaranteed[i]) + pooled(after, grant.guaranteed[i]);
    if (pool > poolCapacity[i]) return { kind: 'cohort', at: k };
    if (clusterUsage[i] + demand.amount[k] > capacity[i]) return { kind: 'cluster-free', at: k };
  }
  return undefined;
}

function resourceNames(snapshot: AdmissionSnapshot): string[] {
  const names = new Set<string>();
  const add = (amounts: Readonly<Record<string, unknown>>) => {
    for (const name of Object.keys(amounts)) names.add(name);
  };
  for (const cluster of snapshot.clusters) {
    add(cluster.capacity);
    for (const type of Object.keys(cluster.gpuMemoryBytes)) names.add(`gpu/${type}`);
  }
  for (const grant of snapshot.grants) add(grant.quotas);
  for (const workload of snapshot.admitted) add(workload.request);
  for (const workload of snapshot.pending) add(workload.request);
  return [...names].sort(compareIds);
}

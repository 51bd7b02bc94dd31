import type {
  AdmissionCluster,
  AdmissionGrant,
  AdmissionQueue,
  AdmissionSnapshot,
  AdmittedWorkload,
  PendingWorkload,
  PlacementPolicy,
  Resources,
} from './admission.types';

// One pass works on dense vectors indexed by resource (names sorted), built once from the snapshot,
// so every fit check is a few array reads instead of map lookups. What a job asks for is a row of
// one matrix (`Rows`), not an object per job: a pass over 10,000 jobs allocates little beyond its
// decisions.

/** The demands of a pass, one row each: a job's whole gang (replicas x request), by resource. */
export class Rows {
  /** `amount[row * width + i]`: the whole gang's amount of resource i. */
  amount: Float64Array;
  replicas: Float64Array;
  /** Bit i set for each resource i the row asks for (resources 0-29), or -1 past those: same mask, same resources. */
  mask: Int32Array;
  /** The queue's clusters (bit = position in the queue's list) the row may be placed on. */
  clusters: Int32Array;
  /** The resource an any-GPU request resolved to (its count per replica in `extra`), or -1. */
  gpu: Int32Array;
  extra: Float64Array;
  /** A row with the same amounts and replicas (the first one seen), or -1 until asked: reasons are shared by shape. */
  private shapes: Int32Array;
  private readonly shapeIndex = new Map<number, number[]>();
  count = 0;

  readonly width: number;

  /** Rows over the pass's resources, `names` (sorted), room for `capacity` to start with. */
  constructor(
    private readonly names: readonly string[],
    private capacity: number,
  ) {
    this.width = names.length;
    const width = names.length;
    this.amount = new Float64Array(capacity * width);
    this.replicas = new Float64Array(capacity);
    this.mask = new Int32Array(capacity);
    this.clusters = new Int32Array(capacity);
    this.gpu = new Int32Array(capacity);
    this.extra = new Float64Array(capacity);
    this.shapes = new Int32Array(capacity).fill(-1);
  }

  /** A row for `replicas` x `request`, to be placed on `clusters`. */
  add(request: Resources, replicas: number, clusters: number): number {
    if (this.count === this.capacity) this.grow();
    const row = this.count++;
    const base = row * this.width;
    // One read per resource of the pass rather than a walk over the request's keys: requests come
    // in many shapes, and a walk allocates its keys.
    const { names } = this;
    let mask = 0;
    for (let i = 0; i < names.length; i++) {
      const each = request[names[i]];
      if (each === undefined || each === 0) continue;
      this.amount[base + i] = each * replicas;
      mask = mask >= 0 && i < 30 ? mask | (1 << i) : -1;
    }
    this.replicas[row] = replicas;
    this.mask[row] = mask;
    this.clusters[row] = clusters;
    this.gpu[row] = -1;
    return row;
  }

  /** A row like `from` plus `extra` of resource `gpu` per replica (an any-GPU request resolved), to be placed on `clusters`. */
  variant(from: number, clusters: number, gpu: number, extra: number): number {
    if (this.count === this.capacity) this.grow();
    const row = this.count++;
    const { width, amount } = this;
    amount.copyWithin(row * width, from * width, from * width + width);
    const replicas = this.replicas[from];
    amount[row * width + gpu] += extra * replicas;
    const mask = this.mask[from];
    this.replicas[row] = replicas;
    this.mask[row] = mask >= 0 && gpu < 30 ? mask | (1 << gpu) : -1;
    this.clusters[row] = clusters;
    this.gpu[row] = gpu;
    this.extra[row] = extra;
    return row;
  }

  /** The first row with the same amounts and replicas. */
  shape(row: number): number {
    const known = this.shapes[row];
    if (known >= 0) return known;
    const { amount, width } = this;
    const base = row * width;
    let hash = this.replicas[row] | 0;
    for (let i = 0; i < width; i++) hash = (Math.imul(hash, 31) + (amount[base + i] % 2_147_483_647)) | 0;
    let same = this.shapeIndex.get(hash);
    if (!same) this.shapeIndex.set(hash, (same = []));
    for (const other of same) if (this.sameAs(row, other)) return (this.shapes[row] = other);
    same.push(row);
    return (this.shapes[row] = row);
  }

  private sameAs(a: number, b: number): boolean {
    if (this.replicas[a] !== this.replicas[b]) return false;
    const { amount, width } = this;
    for (let i = 0; i < width; i++) if (amount[a * width + i] !== amount[b * width + i]) return false;
    return true;
  }

  private grow(): void {
    this.capacity *= 2;
    const widen = <T extends Float64Array | Int32Array>(old: T, make: (size: number) => T, size: number, fill = 0): T => {
      const next = make(size);
      if (fill) next.fill(fill);
      next.set(old);
      return next;
    };
    this.amount = widen(this.amount, (size) => new Float64Array(size), this.capacity * this.width);
    this.replicas = widen(this.replicas, (size) => new Float64Array(size), this.capacity);
    this.mask = widen(this.mask, (size) => new Int32Array(size), this.capacity);
    this.clusters = widen(this.clusters, (size) => new Int32Array(size), this.capacity);
    this.gpu = widen(this.gpu, (size) => new Int32Array(size), this.capacity);
    this.extra = widen(this.extra, (size) => new Float64Array(size), this.capacity);
    this.shapes = widen(this.shapes, (size) => new Int32Array(size), this.capacity, -1);
  }
}

export interface ClusterState {
  cluster: AdmissionCluster;
  /** Whether new jobs may be placed on it. */
  healthy: boolean;
  capacity: number[];
  usage: number[];
  /** GPU types, by name. */
  gpuTypes: string[];
}

/** One GPU type a queue's clusters have, for jobs asking for GPUs of any type. */
export interface GpuOption {
  type: string;
  /** The resource index of `gpu/<type>`. */
  resource: number;
  /** The queue's clusters (bits by position) that have it with enough memory. */
  clusters: number;
}

export interface QueueState {
  queue: AdmissionQueue;
  /** The queue's clusters the snapshot knows, in the queue's order; bit k of a cluster mask is `clusters[k]`. */
  clusters: ClusterState[];
  costWeights: number[];
  placement: PlacementPolicy;
  /** Positions by cluster id. */
  position: Map<string, number>;
  /** Clusters that take new jobs. */
  healthy: number;
  /** All of `clusters`. */
  all: number;
  /** Any-GPU options by minimum memory. */
  gpuOptions: Map<number, GpuOption[]>;
}

export interface CohortState {
  /** `cohort <name>`, or `queue <name> (no cohort)`: how reasons name it. */
  label: string;
  grants: GrantState[];
  /** Σ lendable nominal (min(lendingLimit, nominal)) over the cohort's grants. */
  poolCapacity: number[];
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
  queue: QueueState;
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
  /** Where it runs; undefined when the snapshot does not know that cluster. */
  cluster: ClusterState | undefined;
  row: number;
  preempted: boolean;
}

export interface PassState {
  resources: string[];
  resourceIndex: Map<string, number>;
  rows: Rows;
  clusters: Map<string, ClusterState>;
  queues: Map<string, AdmissionQueue>;
  /** Grants by queue id, then project id. */
  grants: Map<string, Map<string, GrantState>>;
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
  return b.priority - a.priority || a.createdAt - b.createdAt || compareIds(a.id, b.id);
}

export const compareIds = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The pending jobs in admission order. Where priorities are few and submission times integers in
 * a span that allows it, one numeric key per job (priority rank, time, position) sorts natively,
 * several times faster than a comparator; runs of equal priority and time are then ordered by id.
 */
export function inAdmissionOrder(pending: readonly PendingWorkload[]): PendingWorkload[] {
  const n = pending.length;
  // Each job's fields are read once: the jobs come in many shapes, so every read is a slow one.
  const priority = new Float64Array(n);
  const createdAt = new Float64Array(n);
  const seen = new Set<number>();
  let first = Infinity;
  let last = -Infinity;
  let integral = true;
  for (let k = 0; k < n; k++) {
    const job = pending[k];
    const p = (priority[k] = job.priority);
    const at = (createdAt[k] = job.createdAt);
    seen.add(p);
    if (at < first) first = at;
    if (at > last) last = at;
    if (!Number.isInteger(at) || !Number.isFinite(p)) integral = false;
  }
  const span = last - first + 1;
  if (n < 2 || !integral || seen.size * span * n >= 2 ** 52) return [...pending].sort(byAdmissionOrder);
  const priorities = [...seen].sort((a, b) => b - a);
  const ranks = new Map(priorities.map((p, rank) => [p, rank]));
  const keys = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const rank = priorities.length <= 8 ? priorities.indexOf(priority[k]) : (ranks.get(priority[k]) as number);
    keys[k] = (rank * span + (createdAt[k] - first)) * n + k;
  }
  keys.sort();
  const ordered = new Array<PendingWorkload>(n);
  let runStart = 0;
  let previous = -1;
  for (let k = 0; k < n; k++) {
    const key = keys[k];
    const group = Math.floor(key / n);
    ordered[k] = pending[key - group * n];
    if (group !== previous) {
      if (k - runStart > 1) sortRun(ordered, runStart, k);
      runStart = k;
      previous = group;
    }
  }
  if (n - runStart > 1) sortRun(ordered, runStart, n);
  return ordered;
}

/** Orders jobs of equal priority and submission time by id (stable: equal ids keep their order). */
function sortRun(ordered: PendingWorkload[], start: number, end: number): void {
  const run = ordered.slice(start, end).sort((a, b) => compareIds(a.id, b.id));
  for (let k = 0; k < run.length; k++) ordered[start + k] = run[k];
}

/** Builds the dense state of one pass: usage per grant, cohort and cluster counted once. */
export function buildPassState(snapshot: AdmissionSnapshot): PassState {
  const resources = resourceNames(snapshot);
  const resourceIndex = new Map(resources.map((name, i) => [name, i]));
  const vector = (amounts: Resources | undefined) => resources.map((name) => amounts?.[name] ?? 0);
  // A job asking for GPUs of any type takes a row per type it may get, and one for the rest of its request.
  const gpuTypes = new Set(snapshot.clusters.flatMap((cluster) => Object.keys(cluster.gpuMemoryBytes))).size;
  let anyGpu = 0;
  for (const job of snapshot.pending) if (job.anyGpu) anyGpu++;
  const rows = new Rows(resources, snapshot.pending.length + snapshot.admitted.length + anyGpu * gpuTypes + 16);

  const clusters = new Map<string, ClusterState>();
  for (const cluster of snapshot.clusters) {
    const gpuTypes = Object.keys(cluster.gpuMemoryBytes).sort(compareIds);
    clusters.set(cluster.id, { cluster, healthy: cluster.healthy !== false, capacity: vector(cluster.capacity), usage: vector(undefined), gpuTypes });
  }
  const queues = new Map(snapshot.queues.map((queue) => [queue.id, queue]));
  const queueStates = new Map<string, QueueState | undefined>();
  const queueState = (queue: AdmissionQueue) => {
    if (!queueStates.has(queue.id)) queueStates.set(queue.id, buildQueueState(queue, clusters));
    return queueStates.get(queue.id);
  };

  const cohortsByName = new Map<string, CohortState>();
  const grants = new Map<string, Map<string, GrantState>>();
  let order = 0;
  const sortedGrants = [...snapshot.grants].sort((a, b) => compareIds(a.queueId, b.queueId) || compareIds(a.projectId, b.projectId));
  for (const grant of sortedGrants) {
    const queue = queues.get(grant.queueId);
    const state = queue && queueState(queue);
    if (!queue || !state) continue;
    const cohortName = queue.cohort ? `cohort\u0000${queue.cohort}` : `queue\u0000${queue.id}`;
    let cohort = cohortsByName.get(cohortName);
    if (!cohort) {
      const label = queue.cohort ? `cohort ${queue.cohort}` : `queue ${queue.name} (no cohort)`;
      cohort = { label, grants: [], poolCapacity: vector(undefined), poolUsage: vector(undefined), nominalTotal: vector(undefined), admitted: [] };
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
    const grantState: GrantState = { order: order++, grant, queue: state, cohort, nominal, guaranteed, ceiling, usage: vector(undefined), admitted: [] };
    cohort.grants.push(grantState);
    const ofQueue = grants.get(grant.queueId) ?? new Map<string, GrantState>();
    grants.set(grant.queueId, ofQueue.set(grant.projectId, grantState));
  }

  for (const workload of snapshot.admitted) {
    const row = rows.add(workload.request, workload.replicas, 0);
    const grant = grants.get(workload.queueId)?.get(workload.projectId);
    const cluster = clusters.get(workload.clusterId);
    if (grant) {
      const entry: AdmittedEntry = { workload, grant, cluster, row, preempted: false };
      grant.admitted.push(entry);
      grant.cohort.admitted.push(entry);
      take(rows, grant, cluster, row);
    } else if (cluster) {
      // Quota gone (grant deleted) but the job still runs: it still fills its cluster.
      addTo(cluster.usage, rows, row, 1);
    }
  }
  const cohorts = [...cohortsByName.entries()].sort(([a], [b]) => compareIds(a, b)).map(([, cohort]) => cohort);
  for (const cohort of cohorts) {
    cohort.admitted.sort(byVictimOrder);
    for (const grant of cohort.grants) grant.admitted.sort(byVictimOrder);
  }
  return { resources, resourceIndex, rows, clusters, queues, grants, cohorts };
}

function buildQueueState(queue: AdmissionQueue, clusters: ReadonlyMap<string, ClusterState>): QueueState | undefined {
  const known = queue.clusters.filter((entry, k) => clusters.has(entry.clusterId) && queue.clusters.findIndex((other) => other.clusterId === entry.clusterId) === k).slice(0, 16);
  if (!known.length) return undefined;
  const states = known.map((entry) => clusters.get(entry.clusterId) as ClusterState);
  let healthy = 0;
  states.forEach((cluster, k) => (healthy |= cluster.healthy ? 1 << k : 0));
  return {
    queue,
    clusters: states,
    costWeights: known.map((entry) => (entry.costWeight > 0 && Number.isFinite(entry.costWeight) ? entry.costWeight : 1)),
    placement: queue.placement ?? 'FIRST_FIT',
    position: new Map(known.map((entry, k) => [entry.clusterId, k])),
    healthy,
    all: (1 << states.length) - 1,
    gpuOptions: new Map(),
  };
}

/** The GPU types of the queue's clusters with at least `minMemoryBytes` per GPU, by name, each with the clusters that have it. */
export function gpuOptions(queue: QueueState, minMemoryBytes: number, resourceIndex: ReadonlyMap<string, number>): GpuOption[] {
  let options = queue.gpuOptions.get(minMemoryBytes);
  if (options) return options;
  const byType = new Map<string, number>();
  queue.clusters.forEach((cluster, k) => {
    for (const type of cluster.gpuTypes) if (cluster.cluster.gpuMemoryBytes[type] >= minMemoryBytes) byType.set(type, (byType.get(type) ?? 0) | (1 << k));
  });
  options = [...byType.entries()]
    .sort(([a], [b]) => compareIds(a, b))
    .map(([type, clusters]) => ({ type, resource: resourceIndex.get(`gpu/${type}`) as number, clusters }));
  queue.gpuOptions.set(minMemoryBytes, options);
  return options;
}

/** What `usage` counts in the cohort's pool: everything beyond the grant's unlendable part. */
const pooled = (usage: number, guaranteed: number) => (usage > guaranteed ? usage - guaranteed : 0);

/** Adds (sign 1) or removes (sign -1) a row from a grant, its cohort's pool and the cluster it is on. */
function account(rows: Rows, grant: GrantState, cluster: ClusterState | undefined, row: number, sign: 1 | -1): void {
  const { usage, guaranteed, cohort } = grant;
  const { amount, width } = rows;
  const base = row * width;
  for (let i = 0; i < width; i++) {
    const change = amount[base + i];
    if (change === 0) continue;
    const before = usage[i];
    const after = before + sign * change;
    usage[i] = after;
    cohort.poolUsage[i] += pooled(after, guaranteed[i]) - pooled(before, guaranteed[i]);
  }
  if (cluster) addTo(cluster.usage, rows, row, sign);
}

export const take = (rows: Rows, grant: GrantState, cluster: ClusterState | undefined, row: number) => account(rows, grant, cluster, row, 1);
export const release = (rows: Rows, grant: GrantState, cluster: ClusterState | undefined, row: number) => account(rows, grant, cluster, row, -1);

function addTo(usage: number[], rows: Rows, row: number, sign: 1 | -1): void {
  const { amount, width } = rows;
  const base = row * width;
  for (let i = 0; i < width; i++) usage[i] += sign * amount[base + i];
}

/** Whether the grant's usage plus the row stays within its nominal quota of every resource. */
export function withinNominal(rows: Rows, grant: GrantState, row: number): boolean {
  const { amount, width } = rows;
  const base = row * width;
  for (let i = 0; i < width; i++) if (amount[base + i] !== 0 && grant.usage[i] + amount[base + i] > grant.nominal[i]) return false;
  return true;
}

/** Whether the grant uses more than its nominal of any resource the row asks for. */
export function borrowsAny(rows: Rows, grant: GrantState, row: number): boolean {
  const { amount, width } = rows;
  const base = row * width;
  for (let i = 0; i < width; i++) if (amount[base + i] !== 0 && grant.usage[i] > grant.nominal[i]) return true;
  return false;
}

/** Whether two rows ask for some resource in common. */
export function shareResource(rows: Rows, a: number, b: number): boolean {
  const { mask } = rows;
  if (mask[a] >= 0 && mask[b] >= 0) return (mask[a] & mask[b]) !== 0;
  const { amount, width } = rows;
  for (let i = 0; i < width; i++) if (amount[a * width + i] !== 0 && amount[b * width + i] !== 0) return true;
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

// Shortfalls are numbers, `kind * SHORT + resource`, so a pass that checks 10,000 jobs allocates none.
export const SHORT = 1024;
export const BORROWING_LIMIT = 1;
export const COHORT = 2;

/**
 * What stops the row from fitting the grant's quota, or -1 when it fits: the first resource (by
 * name) beyond its nominal plus borrowing limit (BORROWING_LIMIT) or the cohort's lendable pool (COHORT).
 */
export function quotaShortfall(rows: Rows, grant: GrantState, row: number): number {
  const { amount, width } = rows;
  const base = row * width;
  const { poolCapacity, poolUsage } = grant.cohort;
  for (let i = 0; i < width; i++) {
    const need = amount[base + i];
    if (need === 0) continue;
    const before = grant.usage[i];
    const after = before + need;
    if (after > grant.ceiling[i]) return BORROWING_LIMIT * SHORT + i;
    if (poolUsage[i] - pooled(before, grant.guaranteed[i]) + pooled(after, grant.guaranteed[i]) > poolCapacity[i]) return COHORT * SHORT + i;
  }
  return -1;
}

/** The first resource (by name) of which the cluster has less than the row in all, or -1. */
export function tooBigFor(rows: Rows, cluster: ClusterState, row: number): number {
  const { amount, width } = rows;
  const base = row * width;
  for (let i = 0; i < width; i++) if (amount[base + i] > cluster.capacity[i]) return i;
  return -1;
}

/** The first resource (by name) of which the cluster has less than the row free, or -1. */
export function shortOn(rows: Rows, cluster: ClusterState, row: number): number {
  const { amount, width } = rows;
  const base = row * width;
  for (let i = 0; i < width; i++) if (amount[base + i] !== 0 && cluster.usage[i] + amount[base + i] > cluster.capacity[i]) return i;
  return -1;
}

/** The clusters of `mask` (bits by position in the queue) with the whole row free. */
export function roomyClusters(rows: Rows, queue: QueueState, row: number, mask: number): number {
  let fits = 0;
  const { clusters } = queue;
  for (let k = 0; k < clusters.length; k++) if (mask & (1 << k) && shortOn(rows, clusters[k], row) < 0) fits |= 1 << k;
  return fits;
}

/** The clusters of `mask` that could hold the row at all (when empty). */
export function bigEnoughClusters(rows: Rows, queue: QueueState, row: number, mask: number): number {
  let fits = 0;
  const { clusters } = queue;
  for (let k = 0; k < clusters.length; k++) if (mask & (1 << k) && tooBigFor(rows, clusters[k], row) < 0) fits |= 1 << k;
  return fits;
}

function resourceNames(snapshot: AdmissionSnapshot): string[] {
  const names = new Set<string>();
  const add = (amounts: Readonly<Record<string, unknown>>) => {
    for (const name in amounts) names.add(name);
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

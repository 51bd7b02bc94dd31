import { shortOn, tooBigFor, type ClusterState, type GrantState, type QueueState, type Rows } from './admission.state';
import type { AdmittedWorkload, PendingWorkload } from './admission.types';

// Reason texts: what the job needs, then what stands in the way, in the resource's own unit
// (cpu in cores, memory in GiB, GPUs as a count). A pass builds one only for a job that waits,
// and shares it between jobs of the same shape while what it says holds.

const GiB = 1024 ** 3;

/** At most this many clusters are named in one text; the rest are counted. */
export const NAMED_CLUSTERS = 5;

/** The amount in the resource's unit, without the unit. */
function number(resource: string, amount: number): string {
  if (resource === 'cpu') return String(Math.round(amount / 10) / 100);
  if (resource === 'memory') return String(Math.round((amount / GiB) * 100) / 100);
  return String(amount);
}

const unit = (resource: string) => (resource === 'cpu' ? 'cpu' : resource === 'memory' ? 'GiB memory' : resource);

const quantity = (resource: string, amount: number) => `${number(resource, amount)} ${unit(resource)}`;

const projectName = (grant: GrantState) => grant.grant.projectName ?? grant.grant.projectId;

const replicasText = (replicas: number) => `${replicas} replica${replicas === 1 ? '' : 's'}`;

/** What the job needs of one resource: `needs 2 replicas x 4 gpu/nvidia-h100 = 8`. */
export function needsText(rows: Rows, row: number, resource: number, resources: readonly string[]): string {
  const name = resources[resource];
  const whole = rows.amount[row * rows.width + resource];
  const replicas = rows.replicas[row];
  return `needs ${replicasText(replicas)} x ${quantity(name, whole / replicas)} = ${number(name, whole)}`;
}

/** Everything the job needs: `needs 2 replicas x (4 gpu/nvidia-h100 + 8 cpu)`. */
export function gangText(rows: Rows, row: number, resources: readonly string[]): string {
  const replicas = rows.replicas[row];
  const parts: string[] = [];
  for (let i = 0; i < rows.width; i++) {
    const whole = rows.amount[row * rows.width + i];
    if (whole !== 0) parts.push(quantity(resources[i], whole / replicas));
  }
  return `needs ${replicasText(replicas)} x ${parts.length === 1 ? parts[0] : `(${parts.join(' + ')})`}`;
}

/** A quota shortfall as reasons tell it: a cohort short of quota the job is within its nominal for has lent it out. */
export type QuotaSituation = 'borrowing-limit' | 'cohort' | 'cohort-lent';

/** What stands in the way in the grant's quota, from the grant's and cohort's state alone. */
export function quotaText(grant: GrantState, i: number, kind: QuotaSituation, resources: readonly string[]): string {
  const resource = resources[i];
  const uses = `project ${projectName(grant)} uses ${number(resource, grant.usage[i])}/${quantity(resource, grant.nominal[i])} of its quota on queue ${grant.queue.queue.name}`;
  switch (kind) {
    case 'borrowing-limit':
      return `; ${uses}, and its borrowing limit is ${number(resource, grant.ceiling[i] - grant.nominal[i])}`;
    case 'cohort-lent':
      return `; ${uses}, and ${grant.cohort.label} has lent the rest to other projects`;
    case 'cohort':
      return `; ${uses}; ${grant.cohort.label} has ${number(resource, Math.max(0, grant.cohort.poolCapacity[i] - grant.cohort.poolUsage[i]))} to lend`;
  }
}

/** `, cluster local has 8 in all` (total) or `, cluster local has 6 free of 8`: the one cluster of a queue, short of resource i. */
export function oneClusterText(cluster: ClusterState, i: number, total: boolean, resources: readonly string[]): string {
  const resource = resources[i];
  const { capacity, usage } = cluster;
  if (total) return `, cluster ${cluster.cluster.name} has ${number(resource, capacity[i])} in all`;
  return `, cluster ${cluster.cluster.name} has ${number(resource, Math.max(0, capacity[i] - usage[i]))} free of ${number(resource, capacity[i])}`;
}

/**
 * Why the cluster cannot take the row now: `k8s-a has 6/8 gpu/nvidia-h100 free`, `hpc has 4
 * gpu/nvidia-h100 in all`, `ray is not answering`, `slurm cannot run it` (not `eligible`), or
 * `has room`. Past tense for placement texts.
 */
export function lackPhrase(rows: Rows, row: number, cluster: ClusterState, eligible: boolean, resources: readonly string[], past = false): string {
  const name = cluster.cluster.name;
  if (!eligible) return `${name} ${past ? 'could not' : 'cannot'} run it`;
  if (!cluster.healthy) return `${name} ${past ? 'was' : 'is'} not answering`;
  const has = past ? 'had' : 'has';
  const total = tooBigFor(rows, cluster, row);
  const i = total >= 0 ? total : shortOn(rows, cluster, row);
  if (i < 0) return `${name} ${has} room`;
  const resource = resources[i];
  const capacity = cluster.capacity[i];
  if (total >= 0) return `${name} ${has} ${quantity(resource, capacity)} in all`;
  return `${name} ${has} ${number(resource, Math.max(0, capacity - cluster.usage[i]))}/${quantity(resource, capacity)} free`;
}

/** The clusters of the queue in `among` (bits by position), in the queue's order, each with its `lackPhrase`; at most NAMED_CLUSTERS named. */
export function clusterLacks(rows: Rows, row: number, queue: QueueState, among: number, eligible: number, resources: readonly string[], past = false): string {
  const parts: string[] = [];
  let more = 0;
  queue.clusters.forEach((cluster, k) => {
    if (!(among & (1 << k))) return;
    if (parts.length === NAMED_CLUSTERS) more++;
    else parts.push(lackPhrase(rows, row, cluster, (eligible & (1 << k)) !== 0, resources, past));
  });
  return more ? `${parts.join(', ')} and ${more} more` : parts.join(', ');
}

/** A pending job whose grant, queue or clusters are missing from the snapshot. */
export function unplacedReason(workload: PendingWorkload, queueName: string | undefined, clusterCount: number, hasCluster: boolean): string {
  if (queueName === undefined) return `waiting: queue ${workload.queueId} does not exist`;
  if (!hasCluster) return clusterCount > 1 ? `waiting: no cluster of queue ${queueName} is known` : `waiting: the cluster of queue ${queueName} is not known`;
  return `waiting: project ${workload.projectId} has no grant on queue ${queueName}; an admin can grant it quota there`;
}

/** A job that no cluster of its queue can take now: none of them can run it, or those that can are not answering. */
export function unavailableReason(rows: Rows, row: number, queue: QueueState, eligible: number, resources: readonly string[]): string {
  const { name } = queue.queue;
  if (!(eligible & queue.all)) return `waiting: no cluster of queue ${name} can run it`;
  if (queue.clusters.length === 1) return `waiting: cluster ${queue.clusters[0].cluster.name} is not answering`;
  return `waiting: no cluster of queue ${name} can take it now: ${clusterLacks(rows, row, queue, queue.all, eligible, resources)}`;
}

/** A job asking for GPUs of any type that the clusters it may go to have none of (with enough memory). */
export function noGpuTypeReason(queue: QueueState, clusters: number, count: number, minMemoryBytes: number | undefined): string {
  const names = queue.clusters.filter((_, k) => clusters & (1 << k)).map((cluster) => cluster.cluster.name);
  const which = names.length === 1 ? `cluster ${names[0]}` : `clusters ${names.slice(0, NAMED_CLUSTERS).join(', ')}${names.length > NAMED_CLUSTERS ? ` and ${names.length - NAMED_CLUSTERS} more` : ''}`;
  const gpus = queue.clusters.some((cluster, k) => clusters & (1 << k) && cluster.gpuTypes.length);
  if (!gpus) return `waiting: needs ${count} GPU(s) per replica, ${which} ${names.length === 1 ? 'has' : 'have'} no GPUs`;
  return `waiting: needs ${count} GPU(s) per replica with at least ${quantity('memory', minMemoryBytes ?? 0)} each, no GPU type of ${which} has that much`;
}

/** The reason a preempted job is queued again with. */
export function preemptedReason(victim: AdmittedWorkload, by: PendingWorkload, reclaim: boolean, grant: GrantState): string {
  const queue = grant.queue.queue.name;
  if (reclaim) return `preempted by job ${by.id} (project ${projectName(grant)} reclaims its nominal quota on queue ${queue})`;
  return `preempted by job ${by.id} (priority ${by.priority} over ${victim.priority} in project ${projectName(grant)} on queue ${queue})`;
}

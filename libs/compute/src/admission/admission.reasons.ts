import type { Demand, GrantState, Shortfall } from './admission.state';
import type { AdmittedWorkload, PendingWorkload } from './admission.types';

// Reason texts: what the job needs, then what stands in the way, in the resource's own unit
// (cpu in cores, memory in GiB, GPUs as a count).

const GiB = 1024 ** 3;

/** The amount in the resource's unit, without the unit. */
function number(resource: string, amount: number): string {
  if (resource === 'cpu') return String(Math.round(amount / 10) / 100);
  if (resource === 'memory') return String(Math.round((amount / GiB) * 100) / 100);
  return String(amount);
}

const unit = (resource: string) => (resource === 'cpu' ? 'cpu' : resource === 'memory' ? 'GiB memory' : resource);

const quantity = (resource: string, amount: number) => `${number(resource, amount)} ${unit(resource)}`;

const projectName = (grant: GrantState) => grant.grant.projectName ?? grant.grant.projectId;

function needs(resource: string, demand: Demand, k: number): string {
  const replicas = `${demand.replicas} replica${demand.replicas === 1 ? '' : 's'}`;
  return `needs ${replicas} x ${quantity(resource, demand.amount[k] / demand.replicas)} = ${number(resource, demand.amount[k])}`;
}

/** What the job needs of the resource it falls short of: `needs 2 replicas x 4 gpu/nvidia-h100 = 8`. */
export function needsText(demand: Demand, short: Shortfall, resources: string[]): string {
  return needs(resources[demand.index[short.at]], demand, short.at);
}

/**
 * What stands in the way, from the grant's, cohort's or cluster's state alone, so a pass can reuse
 * it for every job of the grant that falls short the same way while that state holds.
 */
export function situationText(grant: GrantState, resourceIndex: number, kind: Situation, resources: string[]): string {
  const i = resourceIndex;
  const resource = resources[i];
  const { cluster, capacity, usage: clusterUsage } = grant.cluster;
  const uses = `project ${projectName(grant)} uses ${number(resource, grant.usage[i])}/${quantity(resource, grant.nominal[i])} of its quota on queue ${grant.queue.name}`;
  switch (kind) {
    case 'cluster-total':
      return `, cluster ${cluster.name} has ${number(resource, capacity[i])} in all`;
    case 'cluster-free':
      return `, cluster ${cluster.name} has ${number(resource, Math.max(0, capacity[i] - clusterUsage[i]))} free of ${number(resource, capacity[i])}`;
    case 'borrowing-limit':
      return `; ${uses}, and its borrowing limit is ${number(resource, grant.ceiling[i] - grant.nominal[i])}`;
    case 'cohort-lent':
      return `; ${uses}, and ${grant.cohort.label} has lent the rest to other projects`;
    case 'cohort':
      return `; ${uses}; ${grant.cohort.label} has ${number(resource, Math.max(0, grant.cohort.poolCapacity[i] - grant.cohort.poolUsage[i]))} to lend`;
  }
}

/** A shortfall as reasons tell it: a cohort short of quota the job is within its nominal for has lent it out. */
export type Situation = Shortfall['kind'] | 'cohort-lent';

export function situationOf(grant: GrantState, demand: Demand, short: Shortfall): Situation {
  if (short.kind !== 'cohort') return short.kind;
  return grant.usage[demand.index[short.at]] + demand.amount[short.at] <= grant.nominal[demand.index[short.at]] ? 'cohort-lent' : 'cohort';
}

/** A pending job whose grant, queue or cluster is missing from the snapshot. */
export function unplacedReason(workload: PendingWorkload, queueName: string | undefined, hasCluster: boolean): string {
  if (queueName === undefined) return `waiting: queue ${workload.queueId} does not exist`;
  if (!hasCluster) return `waiting: the cluster of queue ${queueName} is not known`;
  return `waiting: project ${workload.projectId} has no grant on queue ${queueName}; an admin can grant it quota there`;
}

/** A job asking for GPUs of any type that its queue's cluster has none of. */
export function noGpuTypeReason(grant: GrantState, count: number, minMemoryBytes: number | undefined): string {
  const name = grant.cluster.cluster.name;
  if (!grant.cluster.gpuTypes.length) return `waiting: needs ${count} GPU(s) per replica, cluster ${name} has no GPUs`;
  return `waiting: needs ${count} GPU(s) per replica with at least ${quantity('memory', minMemoryBytes ?? 0)} each, no GPU type of cluster ${name} has that much`;
}

/** The reason a preempted job is queued again with. */
export function preemptedReason(victim: AdmittedWorkload, by: PendingWorkload, reclaim: boolean, grant: GrantState): string {
  if (reclaim) return `preempted by job ${by.id} (project ${projectName(grant)} reclaims its nominal quota on queue ${grant.queue.name})`;
  return `preempted by job ${by.id} (priority ${by.priority} over ${victim.priority} in project ${projectName(grant)} on queue ${grant.queue.name})`;
}

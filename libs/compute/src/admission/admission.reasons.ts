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

/** Why a demand does not fit; `preemption` says why preempting did not help, when it was tried or ruled out. */
export function waitingReason(grant: GrantState, demand: Demand, short: Shortfall, resources: string[], preemption?: string): string {
  const i = demand.index[short.at];
  const resource = resources[i];
  const head = `waiting: ${needs(resource, demand, short.at)}`;
  const { cluster, capacity, usage: clusterUsage } = grant.cluster;
  const uses = `project ${projectName(grant)} uses ${number(resource, grant.usage[i])}/${quantity(resource, grant.nominal[i])} of its quota on queue ${grant.queue.name}`;
  const free = Math.max(0, grant.cohort.poolCapacity[i] - grant.cohort.poolUsage[i]);
  const tail = preemption ? `; ${preemption}` : '';
  switch (short.kind) {
    case 'cluster-total':
      return `${head}, cluster ${cluster.name} has ${number(resource, capacity[i])} in all`;
    case 'cluster-free':
      return `${head}, cluster ${cluster.name} has ${number(resource, Math.max(0, capacity[i] - clusterUsage[i]))} free of ${number(resource, capacity[i])}${tail}`;
    case 'borrowing-limit':
      return `${head}; ${uses}, and its borrowing limit is ${number(resource, grant.ceiling[i] - grant.nominal[i])}${tail}`;
    case 'cohort':
      if (grant.usage[i] + demand.amount[short.at] <= grant.nominal[i]) return `${head}; ${uses}, and ${grant.cohort.label} has lent the rest to other projects${tail}`;
      return `${head}; ${uses}; ${grant.cohort.label} has ${number(resource, free)} to lend${tail}`;
  }
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

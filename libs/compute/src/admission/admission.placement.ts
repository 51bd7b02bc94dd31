import { clusterLacks } from './admission.reasons';
import type { ClusterState, QueueState, Rows } from './admission.state';

// Placement: which of a queue's clusters with the whole gang free takes a job, by the queue's
// policy, and why (the text an attempt records).

/** The largest share of a resource the row asks for that the cluster has in use once it takes the row. */
function loadAfter(rows: Rows, cluster: ClusterState, row: number): number {
  const { amount, width } = rows;
  const base = row * width;
  let share = 0;
  for (let i = 0; i < width; i++) {
    const need = amount[base + i];
    if (need !== 0 && (cluster.usage[i] + need) / cluster.capacity[i] > share) share = (cluster.usage[i] + need) / cluster.capacity[i];
  }
  return share;
}

/** The cluster's cost weight times the largest share of the cluster the row takes. */
function costOf(rows: Rows, queue: QueueState, k: number, row: number): number {
  const { amount, width } = rows;
  const { capacity } = queue.clusters[k];
  const base = row * width;
  let share = 0;
  for (let i = 0; i < width; i++) if (amount[base + i] !== 0 && amount[base + i] / capacity[i] > share) share = amount[base + i] / capacity[i];
  return queue.costWeights[k] * share;
}

function score(rows: Rows, queue: QueueState, k: number, row: number): number {
  if (queue.placement === 'LEAST_LOADED') return loadAfter(rows, queue.clusters[k], row);
  if (queue.placement === 'CHEAPEST') return costOf(rows, queue, k, row);
  return k;
}

/** The position of the cluster the queue's policy picks among `roomy` (bits by position, not 0); ties go to the first. */
export function pick(rows: Rows, queue: QueueState, row: number, roomy: number): number {
  let best = -1;
  let bestScore = Infinity;
  for (let k = 0; k < queue.clusters.length; k++) {
    if (!(roomy & (1 << k))) continue;
    if (queue.placement === 'FIRST_FIT') return k;
    const value = score(rows, queue, k, row);
    if (value < bestScore) {
      best = k;
      bestScore = value;
    }
  }
  return best;
}

const percent = (share: number) => `${Math.round(share * 100)}%`;
const rounded = (value: number) => String(Number(value.toPrecision(3)));

/**
 * Why the job went to cluster `chosen`, for `Attempt.placement`: the policy, and what the clusters
 * passed over lacked or scored. E.g. `first of queue gpu's clusters, in order, with the whole gang
 * free: hpc (k8s-a had 0/2 gpu/tesla free)`.
 */
export function placementText(rows: Rows, queue: QueueState, row: number, chosen: number, roomy: number, eligible: number, resources: readonly string[]): string {
  const text = describePlacement(rows, queue, row, chosen, roomy, eligible, resources);
  // Attempt.placement holds at most 1024 characters; only names near their 128-character limit come close.
  return text.length > PLACEMENT_MAX ? `${text.slice(0, PLACEMENT_MAX - 1)}…` : text;
}

const PLACEMENT_MAX = 1024;

function describePlacement(rows: Rows, queue: QueueState, row: number, chosen: number, roomy: number, eligible: number, resources: readonly string[]): string {
  const { name } = queue.queue;
  const target = queue.clusters[chosen].cluster.name;
  const others = queue.all & ~(1 << chosen);
  if (queue.placement === 'FIRST_FIT') {
    const before = others & ((1 << chosen) - 1);
    const skipped = before ? ` (${clusterLacks(rows, row, queue, before, eligible, resources, true)})` : '';
    return `first of queue ${name}'s clusters, in order, with the whole gang free: ${target}${skipped}`;
  }
  const least = queue.placement === 'LEAST_LOADED';
  const describe = (k: number) =>
    least ? `${percent(loadAfter(rows, queue.clusters[k], row))} used once placed` : `cost ${rounded(queue.costWeights[k])} x ${percent(costOf(rows, queue, k, row) / queue.costWeights[k])}`;
  const compared: string[] = [];
  for (let k = 0; k < queue.clusters.length && compared.length < 4; k++) {
    if (roomy & others & (1 << k)) compared.push(`${queue.clusters[k].cluster.name} ${describe(k)}`);
  }
  const full = others & ~roomy;
  const lacks = full ? clusterLacks(rows, row, queue, full, eligible, resources, true) : '';
  const rest = [compared.join(', '), lacks].filter(Boolean).join('; ');
  return `${least ? 'least loaded' : 'cheapest'} of queue ${name}'s clusters with the whole gang free: ${target}, ${describe(chosen)}${rest ? ` (${rest})` : ''}`;
}

/** Why the job went to cluster `chosen` after preempting `victims` jobs there. */
export function preemptionPlacementText(queue: QueueState, chosen: number, victims: number): string {
  const target = queue.clusters[chosen].cluster.name;
  if (queue.clusters.length === 1) return `${target}, the cluster of queue ${queue.queue.name}, after preempting ${victims} job${victims === 1 ? '' : 's'}`;
  return `${target}: of queue ${queue.queue.name}'s clusters, the one where preempting the fewest jobs (${victims}) makes room for the whole gang`;
}

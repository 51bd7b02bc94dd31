import { borrowsAny, quotaShortfall, release, shareResource, shortOn, take, withinNominal, type AdmittedEntry, type ClusterState, type GrantState, type Rows } from './admission.state';
import type { PendingWorkload } from './admission.types';

/** Victims that make room for a job on one cluster (its position in the queue), where the job then goes. */
export interface Victims {
  entries: AdmittedEntry[];
  cluster: number;
}

/**
 * Finds the fewest admitted jobs whose release lets the job's `row` fit its quota and one cluster
 * (victims elsewhere only free quota), under the queue's policy: borrowers of other grants in the cohort when the job
 * reclaims its own nominal quota (reclaimWithinCohort), then lower-priority jobs of its own grant
 * (withinQueue); within each, lowest priority first, then the newest. Each cluster of `clusters`
 * (bits by position in the queue) is tried; the one needing the fewest victims wins, ties by the
 * queue's order. Returns undefined, changing nothing, when no cluster works. On success the
 * victims' usage is released from the pass's state; a victim of another grant is one taken to
 * reclaim nominal quota.
 */
export function findVictims(rows: Rows, grant: GrantState, row: number, clusters: number, workload: PendingWorkload, mayReclaim: boolean): Victims | undefined {
  let best: Victims | undefined;
  const removed: AdmittedEntry[] = [];
  for (let k = 0; k < grant.queue.clusters.length; k++) {
    if (!(clusters & (1 << k))) continue;
    const entries = victimsOn(rows, grant, grant.queue.clusters[k], row, workload, mayReclaim, removed);
    if (entries && (!best || entries.length < best.entries.length)) best = { entries, cluster: k };
  }
  if (best) for (const entry of best.entries) release(rows, entry.grant, entry.cluster, entry.row);
  return best;
}

const fits = (rows: Rows, grant: GrantState, cluster: ClusterState, row: number) => quotaShortfall(rows, grant, row) < 0 && shortOn(rows, cluster, row) < 0;

const eligible = (rows: Rows, entry: AdmittedEntry, row: number) => !entry.preempted && shareResource(rows, entry.row, row);

/** The fewest victims that make room on `cluster`, or undefined; either way the state is as before. `removed` is scratch space. */
function victimsOn(
  rows: Rows,
  grant: GrantState,
  cluster: ClusterState,
  row: number,
  workload: PendingWorkload,
  mayReclaim: boolean,
  removed: AdmittedEntry[],
): AdmittedEntry[] | undefined {
  const { reclaimWithinCohort, withinQueue } = grant.queue.queue.preemption;
  const reclaiming = mayReclaim && reclaimWithinCohort !== 'NEVER' && withinNominal(rows, grant, row);
  removed.length = 0;
  let found = false;
  if (reclaiming) {
    const { admitted } = grant.cohort;
    for (let k = 0; k < admitted.length; k++) {
      const entry = admitted[k];
      if (reclaimWithinCohort === 'LOWER_PRIORITY' && entry.workload.priority >= workload.priority) break;
      if (entry.grant === grant || !eligible(rows, entry, row) || !borrowsAny(rows, entry.grant, row)) continue;
      release(rows, entry.grant, entry.cluster, entry.row);
      removed.push(entry);
      if ((found = fits(rows, grant, cluster, row))) break;
    }
  }
  if (!found && withinQueue === 'LOWER_PRIORITY') {
    const { admitted } = grant;
    for (let k = 0; k < admitted.length; k++) {
      const entry = admitted[k];
      if (entry.workload.priority >= workload.priority) break;
      if (!eligible(rows, entry, row)) continue;
      release(rows, entry.grant, entry.cluster, entry.row);
      removed.push(entry);
      if ((found = fits(rows, grant, cluster, row))) break;
    }
  }
  if (!found) {
    for (const entry of removed) take(rows, entry.grant, entry.cluster, entry.row);
    return undefined;
  }
  // Only as many as needed: spare every victim, latest chosen first, whose release the job does not need.
  const entries = [removed[removed.length - 1]];
  for (let k = removed.length - 2; k >= 0; k--) {
    const entry = removed[k];
    take(rows, entry.grant, entry.cluster, entry.row);
    if (!fits(rows, grant, cluster, row)) {
      release(rows, entry.grant, entry.cluster, entry.row);
      entries.push(entry);
    }
  }
  for (const entry of entries) take(rows, entry.grant, entry.cluster, entry.row);
  return entries.reverse();
}

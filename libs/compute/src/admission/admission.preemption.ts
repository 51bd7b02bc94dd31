import { borrowsAny, release, shortfall, take, withinNominal, type AdmittedEntry, type Demand, type GrantState } from './admission.state';
import type { PendingWorkload } from './admission.types';

/**
 * Finds the fewest admitted jobs whose release lets `demand` fit, under the queue's policy:
 * borrowers of other grants in the cohort when the job reclaims its own nominal quota
 * (reclaimWithinCohort), then lower-priority jobs of its own grant (withinQueue); within each,
 * lowest priority first, then the newest. Returns undefined, changing nothing, when even all of
 * them would not make room. On success the victims' usage is released from the pass's state; a
 * victim of another grant is one taken to reclaim nominal quota.
 */
export function findVictims(grant: GrantState, demand: Demand, workload: PendingWorkload, mayReclaim: boolean): AdmittedEntry[] | undefined {
  const { reclaimWithinCohort, withinQueue } = grant.queue.preemption;
  const reclaiming = mayReclaim && reclaimWithinCohort !== 'NEVER' && withinNominal(grant, demand);
  const removed: AdmittedEntry[] = [];
  const fitsAfterRemoving = (entry: AdmittedEntry) => {
    release(entry.grant, entry.demand);
    removed.push(entry);
    return !shortfall(grant, demand);
  };
  const eligible = (entry: AdmittedEntry) => !entry.preempted && sharesResource(entry.demand, demand);

  let fits = false;
  if (reclaiming) {
    for (const entry of grant.cohort.admitted) {
      if (reclaimWithinCohort === 'LOWER_PRIORITY' && entry.workload.priority >= workload.priority) break;
      if (entry.grant === grant || !eligible(entry) || !borrowsAny(entry.grant, demand)) continue;
      if ((fits = fitsAfterRemoving(entry))) break;
    }
  }
  if (!fits && withinQueue === 'LOWER_PRIORITY') {
    for (const entry of grant.admitted) {
      if (entry.workload.priority >= workload.priority) break;
      if (!eligible(entry)) continue;
      if ((fits = fitsAfterRemoving(entry))) break;
    }
  }
  if (!fits) {
    for (const entry of removed) take(entry.grant, entry.demand);
    return undefined;
  }
  // Only as many as needed: spare every victim, latest chosen first, whose release the job does not need.
  const entries = [removed[removed.length - 1]];
  for (let k = removed.length - 2; k >= 0; k--) {
    const entry = removed[k];
    take(entry.grant, entry.demand);
    if (shortfall(grant, demand)) {
      release(entry.grant, entry.demand);
      entries.push(entry);
    }
  }
  return entries.reverse();
}

function sharesResource(a: Demand, b: Demand): boolean {
  for (const i of a.index) if (b.index.includes(i)) return true;
  return false;
}

import { Heap } from './admission.heap';
import { findVictims } from './admission.preemption';
import { needsText, noGpuTypeReason, preemptedReason, situationOf, situationText, unplacedReason, type Situation } from './admission.reasons';
import {
  buildPassState,
  byAdmissionOrder,
  demandOf,
  dominantShare,
  grantOf,
  shortfall,
  take,
  withinNominal,
  type Demand,
  type GrantState,
  type PassState,
  type Shortfall,
} from './admission.state';
import type { Admission, AdmissionDecisions, AdmissionQueue, AdmissionSnapshot, PendingWorkload, Preemption, Waiting } from './admission.types';

/** A pending job with the demands it may be admitted as (one per GPU type for `anyGpu`). */
interface Candidate {
  workload: PendingWorkload;
  grant: GrantState;
  variants: Demand[];
}

/**
 * One admission pass. Pending jobs go by priority (highest first), then submission time, then id.
 * First every job that fits within its grant's nominal quota is admitted, reclaiming nominal quota
 * from borrowers where the queue's policy lets it; then, cohort by cohort, jobs that must borrow
 * take idle quota by dominant resource fairness (the grant with the lowest dominant share goes
 * next). A job that does not fit does not hold back smaller ones behind it (BestEffortFIFO). A job
 * is admitted with all its replicas or not at all. Pure: the same snapshot gives the same decisions.
 */
export function admit(snapshot: AdmissionSnapshot): AdmissionDecisions {
  const pass = new AdmissionPass(buildPassState(snapshot));
  const borrowers = new Map<GrantState, Candidate[]>();
  for (const workload of [...snapshot.pending].sort(byAdmissionOrder)) {
    const candidate = pass.candidate(workload);
    if (!candidate) continue;
    let nominal: Demand | undefined;
    let fitting: Demand | undefined;
    for (const demand of candidate.variants) {
      if (!withinNominal(candidate.grant, demand)) continue;
      nominal ??= demand;
      if (!shortfall(candidate.grant, demand)) {
        fitting = demand;
        break;
      }
    }
    if (fitting) {
      pass.admit(candidate, fitting, undefined);
      continue;
    }
    if (nominal) {
      pass.admitByPreempting(candidate, nominal, true);
      continue;
    }
    const queued = borrowers.get(candidate.grant);
    if (queued) queued.push(candidate);
    else borrowers.set(candidate.grant, [candidate]);
  }
  for (const cohort of pass.state.cohorts) {
    pass.shareIdleQuota(cohort.grants.map((grant) => borrowers.get(grant)).filter((queue): queue is Candidate[] => queue !== undefined));
  }
  return { admit: pass.admitted, preempt: pass.preempted, waiting: pass.waiting };
}

class AdmissionPass {
  readonly admitted: Admission[] = [];
  readonly preempted: Preemption[] = [];
  readonly waiting: Waiting[] = [];
  // Why preempting did not help (`; ...`, or nothing), per queue: for jobs within their nominal quota, and for borrowers.
  private readonly reclaimNotes = new Map<AdmissionQueue, string>();
  private readonly queueNotes = new Map<AdmissionQueue, string>();
  private readonly situations = new Map<GrantState, { cohort: number; cluster: number; texts: Map<number, string> }>();
  // A job that found no victims tells the same for a later job of its grant with the same resources,
  // at most its priority and at least its amounts (it has fewer candidates and needs more), until a
  // preemption releases quota: in between usage only grows.
  private readonly noVictims = new Map<GrantState, NoVictims[]>();
  private preemptions = 0;
  private noVictimsAt = 0;

  constructor(readonly state: PassState) {}

  /** The job with its grant and demands, or undefined once it is decided as waiting. */
  candidate(workload: PendingWorkload): Candidate | undefined {
    const grant = grantOf(this.state, workload.queueId, workload.projectId);
    if (!grant) {
      const queue = this.state.queues.get(workload.queueId);
      this.wait(workload, unplacedReason(workload, queue?.name, !!queue && this.state.clusters.has(queue.clusters[0]?.clusterId)));
      return undefined;
    }
    const variants = this.variants(workload, grant);
    if (!variants.length) {
      this.wait(workload, noGpuTypeReason(grant, workload.anyGpu?.count ?? 0, workload.anyGpu?.minMemoryBytes));
      return undefined;
    }
    return { workload, grant, variants };
  }

  admit(candidate: Candidate, demand: Demand, victims: string[] | undefined): void {
    const { grant, workload } = candidate;
    take(grant, demand);
    let borrowing = false;
    for (const i of demand.index) if (grant.usage[i] > grant.nominal[i]) borrowing = true;
    const { cluster } = grant.cluster;
    const placement = `first of queue ${grant.queue.name}'s clusters, in order, with the whole gang free: ${cluster.name}`;
    this.admitted.push({ workloadId: workload.id, clusterId: cluster.id, placement, request: demand.request, borrowing, preempts: victims ?? [] });
  }

  /** Admits the job by preempting others if that makes room; otherwise it waits, with why. */
  admitByPreempting(candidate: Candidate, demand: Demand, mayReclaim: boolean): void {
    const { grant, workload } = candidate;
    const short = shortfall(grant, demand);
    if (!short) return this.admit(candidate, demand, undefined);
    const victims = this.knownToFail(grant, demand, workload.priority, mayReclaim) ? undefined : findVictims(grant, demand, workload, mayReclaim);
    if (!victims) {
      this.remember(grant, { mayReclaim, priority: workload.priority, demand });
      const note = short.kind === 'cluster-total' ? '' : this.preemptionNote(grant, mayReclaim);
      this.wait(workload, `waiting: ${needsText(demand, short, this.state.resources)}${this.situation(grant, demand, short)}${note}`);
      return;
    }
    this.preemptions++;
    for (const entry of victims) {
      entry.preempted = true;
      this.preempted.push({ workloadId: entry.workload.id, by: workload.id, reason: preemptedReason(entry.workload, workload, entry.grant !== grant, grant) });
    }
    this.admit(candidate, demand, victims.map((entry) => entry.workload.id));
  }

  /**
   * Lends a cohort's idle quota to the jobs that must borrow: the grant with the lowest dominant
   * share goes next (ties: its next job's admission order, then the grant), one job at a time.
   */
  shareIdleQuota(queues: Candidate[][]): void {
    const heap = new Heap<Turn>(beforeTurn);
    for (const queue of queues) heap.push({ queue, position: 0, share: dominantShare(queue[0].grant) });
    for (let turn = heap.pop(); turn; turn = heap.pop()) {
      this.borrow(turn.queue[turn.position++]);
      if (turn.position === turn.queue.length) continue;
      turn.share = dominantShare(turn.queue[0].grant);
      heap.push(turn);
    }
  }

  private borrow(candidate: Candidate): void {
    const fitting = candidate.variants.find((demand) => !shortfall(candidate.grant, demand));
    if (fitting) this.admit(candidate, fitting, undefined);
    else this.admitByPreempting(candidate, candidate.variants[0], false);
  }

  private knownToFail(grant: GrantState, demand: Demand, priority: number, mayReclaim: boolean): boolean {
    if (this.noVictimsAt !== this.preemptions) {
      this.noVictims.clear();
      this.noVictimsAt = this.preemptions;
    }
    const failures = demand.mask < 0 ? undefined : this.noVictims.get(grant);
    if (!failures) return false;
    for (const failure of failures) {
      if (failure.mayReclaim !== mayReclaim || failure.demand.mask !== demand.mask || failure.priority < priority) continue;
      let dominated = true;
      for (let k = 0; k < demand.amount.length && dominated; k++) dominated = failure.demand.amount[k] <= demand.amount[k];
      if (dominated) return true;
    }
    return false;
  }

  private remember(grant: GrantState, failure: NoVictims): void {
    if (failure.demand.mask < 0) return;
    const failures = this.noVictims.get(grant);
    if (failures) failures.push(failure);
    else this.noVictims.set(grant, [failure]);
  }

  /** What stands in the way of the demand, reused while the grant's cohort and cluster are unchanged. */
  private situation(grant: GrantState, demand: Demand, short: Shortfall): string {
    let cached = this.situations.get(grant);
    if (!cached || cached.cohort !== grant.cohort.version || cached.cluster !== grant.cluster.version) {
      cached = { cohort: grant.cohort.version, cluster: grant.cluster.version, texts: new Map() };
      this.situations.set(grant, cached);
    }
    const kind = situationOf(grant, demand, short);
    const key = demand.index[short.at] * SITUATIONS.length + SITUATIONS.indexOf(kind);
    let text = cached.texts.get(key);
    if (text === undefined) {
      text = situationText(grant, demand.index[short.at], kind, this.state.resources);
      cached.texts.set(key, text);
    }
    return text;
  }

  private wait(workload: PendingWorkload, reason: string): void {
    this.waiting.push({ workloadId: workload.id, reason });
  }

  private variants(workload: PendingWorkload, grant: GrantState): Demand[] {
    const { resourceIndex } = this.state;
    if (!workload.anyGpu?.count) return [demandOf(workload.request, workload.replicas, resourceIndex)];
    const { count, minMemoryBytes = 0 } = workload.anyGpu;
    const { cluster, gpuTypes } = grant.cluster;
    return gpuTypes
      .filter((type) => cluster.gpuMemoryBytes[type] >= minMemoryBytes)
      .map((type) => {
        const name = `gpu/${type}`;
        return demandOf({ ...workload.request, [name]: (workload.request[name] ?? 0) + count }, workload.replicas, resourceIndex);
      });
  }

  private preemptionNote(grant: GrantState, mayReclaim: boolean): string {
    const notes = mayReclaim ? this.reclaimNotes : this.queueNotes;
    let note = notes.get(grant.queue);
    if (note === undefined) {
      const { name, preemption } = grant.queue;
      const reclaim = mayReclaim && preemption.reclaimWithinCohort !== 'NEVER';
      const policy = `reclaimWithinCohort ${preemption.reclaimWithinCohort}, withinQueue ${preemption.withinQueue}`;
      if (reclaim || preemption.withinQueue !== 'NEVER') note = `; preempting what queue ${name} allows would not make room (${policy})`;
      else note = mayReclaim ? `; queue ${name} preempts nothing (${policy})` : '';
      notes.set(grant.queue, note);
    }
    return note;
  }
}

const SITUATIONS: readonly Situation[] = ['cluster-total', 'cluster-free', 'borrowing-limit', 'cohort', 'cohort-lent'];

/** A failed search for victims. */
interface NoVictims {
  mayReclaim: boolean;
  priority: number;
  demand: Demand;
}

/** A grant's turn to borrow: its next job waiting to borrow, and its dominant share now. */
interface Turn {
  queue: Candidate[];
  position: number;
  share: number;
}

/** Lowest dominant share first; then the jobs' admission order; then the grant's order. */
function beforeTurn(a: Turn, b: Turn): boolean {
  if (a.share !== b.share) return a.share < b.share;
  const order = byAdmissionOrder(a.queue[a.position].workload, b.queue[b.position].workload);
  return order < 0 || (order === 0 && a.queue[0].grant.order < b.queue[0].grant.order);
}

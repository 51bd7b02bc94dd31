import { Heap } from './admission.heap';
import { pick, placementText, preemptionPlacementText } from './admission.placement';
import { findVictims } from './admission.preemption';
import {
  NAMED_CLUSTERS,
  clusterLacks,
  gangText,
  lackPhrase,
  needsText,
  noGpuTypeReason,
  oneClusterText,
  preemptedReason,
  quotaText,
  unavailableReason,
  unplacedReason,
  type QuotaSituation,
} from './admission.reasons';
import {
  BORROWING_LIMIT,
  SHORT,
  bigEnoughClusters,
  buildPassState,
  dominantShare,
  gpuOptions,
  grantOf,
  inAdmissionOrder,
  quotaShortfall,
  roomyClusters,
  shortOn,
  take,
  tooBigFor,
  withinNominal,
  type ClusterState,
  type CohortState,
  type GrantState,
  type QueueState,
  type PassState,
} from './admission.state';
import type { Admission, AdmissionDecisions, AdmissionQueue, AdmissionSnapshot, PendingWorkload, Preemption, Resources, Waiting } from './admission.types';

/**
 * One admission pass. Pending jobs go by priority (highest first), then submission time, then id.
 * First every job that fits within its grant's nominal quota is admitted, reclaiming nominal quota
 * from borrowers where the queue's policy lets it; then, cohort by cohort, jobs that must borrow
 * take idle quota by dominant resource fairness (the grant with the lowest dominant share goes
 * next). A job that does not fit does not hold back smaller ones behind it (BestEffortFIFO). A job
 * is admitted with all its replicas on one cluster of its queue, healthy and able to run it, that
 * has them all free, or not at all; the queue's placement policy picks among those clusters. Pure:
 * the same snapshot gives the same decisions.
 */
export function admit(snapshot: AdmissionSnapshot): AdmissionDecisions {
  const ordered = inAdmissionOrder(snapshot.pending);
  const pass = new AdmissionPass(buildPassState(snapshot), ordered);
  for (let job = 0; job < ordered.length; job++) pass.consider(job);
  for (const cohort of pass.state.cohorts) pass.shareIdleQuota(cohort);
  return { admit: pass.admitted, preempt: pass.preempted, waiting: pass.waiting };
}

class AdmissionPass {
  readonly admitted: Admission[] = [];
  readonly preempted: Preemption[] = [];
  readonly waiting: Waiting[] = [];
  // A pending job is its place in the admission order; what the pass knows of it is in these arrays
  // (the jobs wait to borrow until the end of the pass, and 10,000 small objects would be copied by
  // every scavenge meanwhile): its grant, its rows (one per GPU type for `anyGpu`, consecutive), and
  // the queue's clusters (bits by position) whose backend can run it.
  private readonly grantOf: (GrantState | undefined)[];
  private readonly firstRow: Int32Array;
  private readonly variants: Int32Array;
  private readonly eligible: Int32Array;
  private readonly borrowers = new Map<GrantState, number[]>();
  // Why preempting did not help (`; ...`, or nothing), per queue: for jobs within their nominal quota, and for borrowers.
  private readonly reclaimNotes = new Map<AdmissionQueue, string>();
  private readonly queueNotes = new Map<AdmissionQueue, string>();
  // Waiting reasons: every distinct text once (by note, situation, what the job needs), and each part once per distinct value it shows.
  private readonly texts = new Map<string, Map<string, Map<number, string>>>();
  private readonly memo = new Memo();
  private readonly phrases = new Memo();
  private readonly lackLists = new Map<QueueState, [PhraseNode, PhraseNode]>();
  // A job that found no victims tells the same for a later job of its grant with the same resources,
  // at most its priority, at least its amounts and no more clusters to go to (it has fewer candidates
  // and needs more), until a preemption releases quota: in between usage only grows.
  private readonly noVictims = new Map<GrantState, NoVictims[]>();
  private preemptions = 0;
  private noVictimsAt = 0;

  constructor(
    readonly state: PassState,
    private readonly jobs: readonly PendingWorkload[],
  ) {
    this.grantOf = new Array<GrantState | undefined>(jobs.length);
    this.firstRow = new Int32Array(jobs.length);
    this.variants = new Int32Array(jobs.length);
    this.eligible = new Int32Array(jobs.length);
  }

  /** Admits the job if it fits within its grant's nominal quota (preempting if need be), queues it to borrow, or says why it waits. */
  consider(job: number): void {
    const grant = this.prepare(job);
    if (!grant) return;
    const { rows } = this.state;
    let nominal = -1;
    for (let row = this.firstRow[job]; row < this.firstRow[job] + this.variants[job]; row++) {
      if (!withinNominal(rows, grant, row)) continue;
      if (nominal < 0) nominal = row;
      if (this.tryPlace(job, row)) return;
    }
    if (nominal >= 0) return this.admitByPreempting(job, nominal, true);
    const queued = this.borrowers.get(grant);
    if (queued) queued.push(job);
    else this.borrowers.set(grant, [job]);
  }

  /**
   * Lends a cohort's idle quota to the jobs that must borrow: the grant with the lowest dominant
   * share goes next (ties: its next job's admission order), one job at a time.
   */
  shareIdleQuota(cohort: CohortState): void {
    const heap = new Heap<Turn>(beforeTurn);
    for (const grant of cohort.grants) {
      const queue = this.borrowers.get(grant);
      if (queue) heap.push({ queue, position: 0, grant, share: dominantShare(grant) });
    }
    for (let turn = heap.pop(); turn; turn = heap.pop()) {
      this.borrow(turn.queue[turn.position++]);
      if (turn.position === turn.queue.length) continue;
      turn.share = dominantShare(turn.grant);
      heap.push(turn);
    }
  }

  /** Records the job's grant, rows and eligible clusters and returns its grant, or undefined once it is decided as waiting. */
  private prepare(job: number): GrantState | undefined {
    const { state } = this;
    const workload = this.jobs[job];
    const grant = grantOf(state, workload.queueId, workload.projectId);
    if (!grant) {
      const queue = state.queues.get(workload.queueId);
      const known = !!queue && queue.clusters.some((entry) => state.clusters.has(entry.clusterId));
      this.wait(workload, unplacedReason(workload, queue?.name, queue?.clusters.length ?? 0, known));
      return undefined;
    }
    const queue = grant.queue;
    let eligible = queue.all;
    if (workload.clusterIds) {
      eligible = 0;
      for (const id of workload.clusterIds) {
        const k = queue.position.get(id);
        if (k !== undefined) eligible |= 1 << k;
      }
    }
    const usable = eligible & queue.healthy;
    const { rows, resourceIndex } = state;
    if (!usable) {
      this.wait(workload, unavailableReason(rows, 0, queue, eligible, state.resources));
      return undefined;
    }
    this.grantOf[job] = grant;
    this.eligible[job] = eligible;
    if (!workload.anyGpu?.count) {
      this.firstRow[job] = rows.add(workload.request, workload.replicas, usable);
      this.variants[job] = 1;
      return grant;
    }
    const { count, minMemoryBytes = 0 } = workload.anyGpu;
    const base = rows.add(workload.request, workload.replicas, 0);
    const first = rows.count;
    const options = gpuOptions(queue, minMemoryBytes, resourceIndex);
    for (let k = 0; k < options.length; k++) if (options[k].clusters & usable) rows.variant(base, options[k].clusters & usable, options[k].resource, count);
    if (rows.count === first) {
      this.wait(workload, noGpuTypeReason(queue, usable, count, workload.anyGpu.minMemoryBytes));
      return undefined;
    }
    this.firstRow[job] = first;
    this.variants[job] = rows.count - first;
    return grant;
  }

  /** Admits the job as `row` on the cluster its queue's policy picks, if its quota allows and one has room. */
  private tryPlace(job: number, row: number): boolean {
    const { rows } = this.state;
    const grant = this.grantOf[job] as GrantState;
    if (quotaShortfall(rows, grant, row) >= 0) return false;
    const roomy = roomyClusters(rows, grant.queue, row, rows.clusters[row]);
    if (!roomy) return false;
    const chosen = pick(rows, grant.queue, row, roomy);
    this.admit(job, row, chosen, placementText(rows, grant.queue, row, chosen, roomy, this.eligible[job], this.state.resources), undefined);
    return true;
  }

  private admit(job: number, row: number, cluster: number, placement: string, victims: string[] | undefined): void {
    const grant = this.grantOf[job] as GrantState;
    const workload = this.jobs[job];
    const { rows, resources } = this.state;
    const target = grant.queue.clusters[cluster];
    take(rows, grant, target, row);
    let borrowing = false;
    for (let i = 0; i < rows.width; i++) if (rows.amount[row * rows.width + i] !== 0 && grant.usage[i] > grant.nominal[i]) borrowing = true;
    let request: Resources = workload.request;
    if (rows.gpu[row] >= 0) {
      const name = resources[rows.gpu[row]];
      request = { ...request, [name]: (request[name] ?? 0) + rows.extra[row] };
    }
    this.admitted.push({ workloadId: workload.id, clusterId: target.cluster.id, placement, request, borrowing, preempts: victims ?? [] });
  }

  /** Admits the job, which does not fit as `row` now, by preempting others if that makes room; otherwise it waits, with why. */
  private admitByPreempting(job: number, row: number, mayReclaim: boolean): void {
    const grant = this.grantOf[job] as GrantState;
    const workload = this.jobs[job];
    const { rows } = this.state;
    const clusters = rows.clusters[row];
    const big = bigEnoughClusters(rows, grant.queue, row, clusters);
    const known = !!big && this.knownToFail(grant, row, workload.priority, mayReclaim);
    const found = !big || known ? undefined : findVictims(rows, grant, row, big, workload, mayReclaim);
    if (!found) {
      // A failure known from one that needed no more tells nothing new.
      if (!known) this.remember(grant, { mayReclaim, priority: workload.priority, row, clusters });
      this.wait(workload, this.reason(job, row, mayReclaim, big));
      return;
    }
    this.preemptions++;
    for (const entry of found.entries) {
      entry.preempted = true;
      this.preempted.push({ workloadId: entry.workload.id, by: workload.id, reason: preemptedReason(entry.workload, workload, entry.grant !== grant, grant) });
    }
    const placement = preemptionPlacementText(grant.queue, found.cluster, found.entries.length);
    this.admit(job, row, found.cluster, placement, found.entries.map((entry) => entry.workload.id));
  }

  private borrow(job: number): void {
    const first = this.firstRow[job];
    for (let row = first; row < first + this.variants[job]; row++) if (this.tryPlace(job, row)) return;
    this.admitByPreempting(job, first, false);
  }

  private knownToFail(grant: GrantState, row: number, priority: number, mayReclaim: boolean): boolean {
    if (this.noVictimsAt !== this.preemptions) {
      this.noVictims.clear();
      this.noVictimsAt = this.preemptions;
    }
    const { rows } = this.state;
    const failures = rows.mask[row] < 0 ? undefined : this.noVictims.get(grant);
    if (!failures) return false;
    const { amount, width } = rows;
    const clusters = rows.clusters[row];
    for (let f = 0; f < failures.length; f++) {
      const failure = failures[f];
      if (failure.mayReclaim !== mayReclaim || rows.mask[failure.row] !== rows.mask[row] || failure.priority < priority || clusters & ~failure.clusters) continue;
      let dominated = true;
      for (let i = 0; i < width && dominated; i++) dominated = amount[failure.row * width + i] <= amount[row * width + i];
      if (dominated) return true;
    }
    return false;
  }

  private remember(grant: GrantState, failure: NoVictims): void {
    if (this.state.rows.mask[failure.row] < 0) return;
    const failures = this.noVictims.get(grant);
    if (failures) failures.push(failure);
    else this.noVictims.set(grant, [failure]);
  }

  /**
   * Why the job waits as `row`. Texts are interned: one string per (what stands in the way, what
   * the job needs, the queue's preemption note), so 10,000 waiting jobs share about a thousand
   * texts, and each part is built once per distinct value it shows.
   */
  private reason(job: number, row: number, mayReclaim: boolean, big: number): string {
    const grant = this.grantOf[job] as GrantState;
    const { rows } = this.state;
    const queue = grant.queue;
    const single = queue.clusters.length === 1 ? queue.clusters[0] : undefined;
    if (!big) {
      if (!single) return this.intern('', this.clustersSituation(job, row, false), -1, row);
      const i = tooBigFor(rows, single, row);
      return this.intern('', this.clusterSituation(single, i, true), i, row);
    }
    const note = this.preemptionNote(grant, mayReclaim);
    const short = quotaShortfall(rows, grant, row);
    if (short >= 0) {
      const i = short % SHORT;
      const lent = grant.usage[i] + rows.amount[row * rows.width + i] <= grant.nominal[i];
      const kind = Math.floor(short / SHORT) === BORROWING_LIMIT ? 'borrowing-limit' : lent ? 'cohort-lent' : 'cohort';
      return this.intern(note, this.quotaSituation(grant, i, kind), i, row);
    }
    if (!single) return this.intern(note, this.clustersSituation(job, row, true), -1, row);
    const i = shortOn(rows, single, row);
    return this.intern(note, this.clusterSituation(single, i, false), i, row);
  }

  /** `waiting: <needs><situation><note>`, `needs` of resource i (the whole gang where i < 0); one string per distinct text. */
  private intern(note: string, situation: string, i: number, row: number): string {
    const { rows, resources } = this.state;
    let bySituation = this.texts.get(note);
    if (!bySituation) this.texts.set(note, (bySituation = new Map()));
    let byNeeds = bySituation.get(situation);
    if (!byNeeds) bySituation.set(situation, (byNeeds = new Map()));
    // What `needs` shows: the amount of resource i and the replicas; the whole row where i < 0 or that does not fit a key.
    const { width } = rows;
    const replicas = rows.replicas[row];
    let key = i < 0 ? -1 : (rows.amount[row * width + i] * 64 + replicas) * width + i;
    if (i < 0 || replicas >= 64 || !Number.isSafeInteger(key)) key = -1 - (rows.shape(row) * (width + 1) + i + 1);
    let text = byNeeds.get(key);
    if (text === undefined) {
      text = `waiting: ${i < 0 ? gangText(rows, row, resources) : needsText(rows, row, i, resources)}${situation}${note}`;
      byNeeds.set(key, text);
    }
    return text;
  }

  /** What stands in the way in the grant's quota at resource i: built once per distinct usage (and cohort pool left). */
  private quotaSituation(grant: GrantState, i: number, kind: QuotaSituation): string {
    const { cohort } = grant;
    const texts = this.memo.leaf(grant, KINDS.indexOf(kind) * this.state.rows.width + i, grant.usage[i]);
    const left = kind === 'cohort' ? cohort.poolCapacity[i] - cohort.poolUsage[i] : 0;
    let text = texts.get(left);
    if (text === undefined) texts.set(left, (text = quotaText(grant, i, kind, this.state.resources)));
    return text;
  }

  /** What the one cluster of a queue lacks of resource i, in all or free now: built once per distinct free amount. */
  private clusterSituation(cluster: ClusterState, i: number, total: boolean): string {
    const texts = this.memo.leaf(cluster, i * 2 + (total ? 1 : 0), 0);
    const free = total ? 0 : cluster.capacity[i] - cluster.usage[i];
    let text = texts.get(free);
    if (text === undefined) texts.set(free, (text = oneClusterText(cluster, i, total, this.state.resources)));
    return text;
  }

  /**
   * What each cluster of a queue of several lacks for the row (too small for it at all, or without
   * room now): one string per distinct list of cluster phrases, found by walking the phrases.
   */
  private clustersSituation(job: number, row: number, free: boolean): string {
    const { queue } = this.grantOf[job] as GrantState;
    const eligible = this.eligible[job];
    let roots = this.lackLists.get(queue);
    if (!roots) this.lackLists.set(queue, (roots = [{ next: new Map() }, { next: new Map() }]));
    let node = roots[free ? 1 : 0];
    const named = Math.min(queue.clusters.length, NAMED_CLUSTERS);
    for (let k = 0; k < named; k++) {
      const phrase = this.lackPhrase(queue.clusters[k], row, (eligible & (1 << k)) !== 0);
      let next = node.next.get(phrase);
      if (!next) node.next.set(phrase, (next = { next: new Map() }));
      node = next;
    }
    if (node.text === undefined) {
      const lacks = clusterLacks(this.state.rows, row, queue, queue.all, eligible, this.state.resources);
      node.text = `; no cluster of queue ${queue.queue.name} ${free ? 'has the whole gang free' : 'is big enough'}: ${lacks}`;
    }
    return node.text;
  }

  /** The cluster's `lackPhrase` for the row: built once per distinct thing it says. */
  private lackPhrase(cluster: ClusterState, row: number, eligible: boolean): string {
    const { rows, resources } = this.state;
    let slot = -3;
    let value = 0;
    if (!eligible) slot = -1;
    else if (!cluster.healthy) slot = -2;
    else {
      const total = tooBigFor(rows, cluster, row);
      const i = total >= 0 ? total : shortOn(rows, cluster, row);
      if (i >= 0) slot = i * 2 + (total >= 0 ? 1 : 0);
      if (i >= 0 && total < 0) value = cluster.capacity[i] - cluster.usage[i];
    }
    const texts = this.phrases.leaf(cluster, slot, 0);
    let text = texts.get(value);
    if (text === undefined) texts.set(value, (text = lackPhrase(rows, row, cluster, eligible, resources)));
    return text;
  }

  private wait(workload: PendingWorkload, reason: string): void {
    this.waiting.push({ workloadId: workload.id, reason });
  }

  private preemptionNote(grant: GrantState, mayReclaim: boolean): string {
    const notes = mayReclaim ? this.reclaimNotes : this.queueNotes;
    const queue = grant.queue.queue;
    let note = notes.get(queue);
    if (note === undefined) {
      const { name, preemption } = queue;
      const reclaim = mayReclaim && preemption.reclaimWithinCohort !== 'NEVER';
      const policy = `reclaimWithinCohort ${preemption.reclaimWithinCohort}, withinQueue ${preemption.withinQueue}`;
      if (reclaim || preemption.withinQueue !== 'NEVER') note = `; preempting what queue ${name} allows would not make room (${policy})`;
      else note = mayReclaim ? `; queue ${name} preempts nothing (${policy})` : '';
      notes.set(queue, note);
    }
    return note;
  }
}

const KINDS: readonly QuotaSituation[] = ['borrowing-limit', 'cohort', 'cohort-lent'];

/** A step in the lists of cluster phrases: the list so far, and its text once built. */
interface PhraseNode {
  next: Map<string, PhraseNode>;
  text?: string;
}

/** Texts by their owner and the numbers they show (nested maps): each distinct text is built once. */
class Memo {
  private readonly owners = new Map<object, Map<number, Map<number, Map<number, string>>>>();

  /** The texts of `owner` in `slot` showing `value`, by the one number left. */
  leaf(owner: object, slot: number, value: number): Map<number, string> {
    let slots = this.owners.get(owner);
    if (!slots) this.owners.set(owner, (slots = new Map()));
    let values = slots.get(slot);
    if (!values) slots.set(slot, (values = new Map()));
    let texts = values.get(value);
    if (!texts) values.set(value, (texts = new Map()));
    return texts;
  }
}

/** A failed search for victims. */
interface NoVictims {
  mayReclaim: boolean;
  priority: number;
  row: number;
  /** The clusters the job could go to. */
  clusters: number;
}

/** A grant's turn to borrow: its jobs waiting to borrow (places in the admission order), the next one, and its dominant share now. */
interface Turn {
  queue: number[];
  position: number;
  grant: GrantState;
  share: number;
}

/** Lowest dominant share first; then the jobs' admission order. */
function beforeTurn(a: Turn, b: Turn): boolean {
  if (a.share !== b.share) return a.share < b.share;
  return a.queue[a.position] < b.queue[b.position];
}

/** The limits of a policy that a canary is judged by (0: not checked). */
export interface Guards {
  maxErrorPercent: number;
  maxP99LatencyMs: number;
  /** 0 means 1. */
  minRequests: number;
}

/** What the canary did since it started taking traffic. */
export interface CanaryWindow {
  requests: number;
  errors: number;
  p99Ms: number | undefined;
}

/**
 * What the canary did on all replicas, from each replica's window: requests and errors add up; the
 * p99 is the highest of the replicas' p99s, which no more than 1% of all the requests exceed.
 */
export function combined(windows: readonly CanaryWindow[]): CanaryWindow {
  const answered = windows.filter((window) => window.requests > 0);
  return {
    requests: answered.reduce((sum, window) => sum + window.requests, 0),
    errors: answered.reduce((sum, window) => sum + window.errors, 0),
    p99Ms: answered.length === 0 ? undefined : Math.max(...answered.map((window) => window.p99Ms ?? 0)),
  };
}

/** What to do with a canary now, and why. */
export type Verdict = { action: 'wait'; reason: string } | { action: 'promote'; reason: string } | { action: 'roll_back'; reason: string };

const percent = (value: number) => `${value.toFixed(1)}%`;

/**
 * Judges a canary: rolled back as soon as a guard is crossed (once it has answered `minRequests`)
 * or its drift monitor found drift in its rows (`driftFinding`, whatever it answered: the monitor
 * judged them), promoted once it has baked (`baked`) within its guards, otherwise left to bake. A
 * canary that baked without `minRequests` requests waits for them: promoting it would judge it on nothing.
 */
export function judge(guards: Guards, window: CanaryWindow, baked: boolean, driftFinding = ''): Verdict {
  if (driftFinding) return { action: 'roll_back', reason: driftFinding };
  const needed = Math.max(1, guards.minRequests);
  const over = ` over ${window.requests} requests`;
  if (window.requests < needed) return { action: 'wait', reason: `waiting for requests: ${window.requests} of the ${needed} needed to judge` };
  const errorRate = (100 * window.errors) / window.requests;
  if (guards.maxErrorPercent > 0 && errorRate > guards.maxErrorPercent) {
    return { action: 'roll_back', reason: `error rate ${percent(errorRate)} > ${percent(guards.maxErrorPercent)}${over}` };
  }
  const p99 = window.p99Ms ?? 0;
  if (guards.maxP99LatencyMs > 0 && p99 > guards.maxP99LatencyMs) {
    return { action: 'roll_back', reason: `p99 latency ${p99.toFixed(1)} ms > ${guards.maxP99LatencyMs} ms${over}` };
  }
  if (!baked) return { action: 'wait', reason: `baking: error rate ${percent(errorRate)}, p99 ${p99.toFixed(1)} ms${over}` };
  return { action: 'promote', reason: `baked within its guards: error rate ${percent(errorRate)}, p99 latency ${p99.toFixed(1)} ms${over}` };
}

/** A monitor's window scored as dataset drift, as monitoring's drift.detected event tells it. */
export interface DriftWindow {
  monitorName: string;
  number: number;
  /** When it was scored, in milliseconds since the epoch; 0 when the event does not say. */
  closedAt: number;
  datasetDrift: boolean;
  driftedColumns: number;
  scoredColumns: number;
  /** The endpoint's revisions that answered the window's rows. */
  revisionIds: readonly string[];
}

/**
 * Why `window` condemns a canary whose policy names `driftMonitor`, as its rollback gives it, or
 * undefined when the window says nothing of it: another monitor's, no dataset drift, no row the
 * candidate answered, or scored before the canary took traffic (its drift was there without it).
 */
export function driftFinding(driftMonitor: string, canary: { candidateRevisionId: string; startedAt: number }, window: DriftWindow): string | undefined {
  if (!driftMonitor || window.monitorName !== driftMonitor || !window.datasetDrift) return undefined;
  if (!canary.candidateRevisionId || !window.revisionIds.includes(canary.candidateRevisionId)) return undefined;
  if (canary.startedAt <= 0 || window.closedAt <= canary.startedAt) return undefined;
  return `drift monitor ${driftMonitor}: window ${window.number} was dataset drift (${window.driftedColumns} of ${window.scoredColumns} columns)`;
}

import type { StoredTarget } from '../endpoints/traffic';

/**
 * Picks a target for each request by smooth weighted round robin (as nginx's upstreams): over any
 * 100 consecutive picks of one split each target answers exactly its percent, interleaved, and
 * the same sequence of calls picks the same targets, so the split is observable in a spec. One
 * state per endpoint, restarted when its split or its set of answering targets changes.
 */
export class TrafficPicker {
  private readonly states = new Map<string, { key: string; current: number[] }>();
  /** The key and total percent of each list of targets picked from, worked out once per list. */
  private readonly splits = new WeakMap<readonly StoredTarget[], { key: string; total: number }>();

  /** The target of `targets` (non-empty) that answers the endpoint's next request. */
  pick(endpointId: string, targets: readonly StoredTarget[]): StoredTarget {
    if (targets.length === 1) return targets[0];
    const { key, total } = this.splitOf(targets);
    let state = this.states.get(endpointId);
    if (state?.key !== key) {
      state = { key, current: targets.map(() => 0) };
      this.states.set(endpointId, state);
    }
    let best = 0;
    targets.forEach((target, index) => {
      state.current[index] += target.percent;
      if (state.current[index] > state.current[best]) best = index;
    });
    state.current[best] -= total;
    return targets[best];
  }

  private splitOf(targets: readonly StoredTarget[]): { key: string; total: number } {
    let split = this.splits.get(targets);
    if (!split) {
      split = { key: targets.map((target) => `${target.revisionId}:${target.percent}`).join(','), total: targets.reduce((sum, target) => sum + target.percent, 0) };
      this.splits.set(targets, split);
    }
    return split;
  }

  /** Forgets the endpoint's state (it was deleted). */
  forget(endpointId: string): void {
    this.states.delete(endpointId);
  }
}

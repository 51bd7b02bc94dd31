import { InvalidArgumentError } from '@trellis/platform';

/** A revision and the percent of requests it answers. */
export interface StoredTarget {
  revisionId: string;
  percent: number;
}

/** An endpoint's split: targets summing to 100, and a shadow ('' for none) that is not a target. */
export interface StoredSplit {
  targets: StoredTarget[];
  shadowRevisionId: string;
}

/** The most targets a split holds, as resources.proto declares. */
export const MAX_TARGETS = 16;

/**
 * INVALID_ARGUMENT naming the field unless `split` is one an endpoint may have: 1 to 16 targets,
 * each 1 to 100 percent and named once, summing to 100 (reason TRAFFIC_NOT_100), and a shadow
 * that is not also a target. Whether the revisions exist is the caller's to check.
 */
export function checkSplit(split: StoredSplit, field = 'traffic'): void {
  if (split.targets.length === 0) throw new InvalidArgumentError('needs at least one target, percents summing to 100', `${field}.targets`, { reason: 'TRAFFIC_NOT_100' });
  if (split.targets.length > MAX_TARGETS) throw new InvalidArgumentError(`holds at most ${MAX_TARGETS} targets`, `${field}.targets`);
  const seen = new Set<string>();
  split.targets.forEach((target, index) => {
    const at = `${field}.targets[${index}]`;
    if (target.revisionId === '') throw new InvalidArgumentError('is required', `${at}.revision_id`);
    if (!Number.isInteger(target.percent) || target.percent < 1 || target.percent > 100) {
      throw new InvalidArgumentError(`must be 1 to 100, not ${target.percent} (leave a revision out to give it no traffic)`, `${at}.percent`);
    }
    if (seen.has(target.revisionId)) throw new InvalidArgumentError(`names revision ${target.revisionId} a second time`, `${at}.revision_id`);
    seen.add(target.revisionId);
  });
  const sum = split.targets.reduce((total, target) => total + target.percent, 0);
  if (sum !== 100) throw new InvalidArgumentError(`percents sum to ${sum}; they must sum to 100`, `${field}.targets`, { reason: 'TRAFFIC_NOT_100' });
  if (split.shadowRevisionId !== '' && seen.has(split.shadowRevisionId)) {
    throw new InvalidArgumentError(`revision ${split.shadowRevisionId} answers traffic; a shadow only gets copies`, `${field}.shadow_revision_id`, { reason: 'SHADOW_IN_SPLIT' });
  }
}

/**
 * The split after a new revision takes `percent` of the requests: the targets there were share the
 * rest in their former proportions, rounded to whole percents by largest remainder (earlier
 * targets first on ties), and a target left with none drops out.
 */
export function withNewTarget(split: StoredSplit, revisionId: string, percent: number): StoredSplit {
  const rest = 100 - percent;
  const total = split.targets.reduce((sum, target) => sum + target.percent, 0);
  const exact = split.targets.map((target) => (total === 0 ? 0 : (target.percent * rest) / total));
  const shares = exact.map(Math.floor);
  let left = rest - shares.reduce((sum, share) => sum + share, 0);
  const byRemainder = exact.map((value, index) => ({ index, remainder: value - shares[index] })).sort((a, b) => b.remainder - a.remainder || a.index - b.index);
  for (const { index } of byRemainder) {
    if (left-- <= 0) break;
    shares[index] += 1;
  }
  const kept = split.targets.map((target, index) => ({ revisionId: target.revisionId, percent: shares[index] })).filter((target) => target.percent > 0);
  const targets = percent > 0 ? [...kept, { revisionId, percent }] : kept;
  return { targets, shadowRevisionId: split.shadowRevisionId === revisionId ? '' : split.shadowRevisionId };
}

/** Whether two splits send the same shares to the same revisions, in any order, with the same shadow. */
export function sameSplit(a: StoredSplit, b: StoredSplit): boolean {
  if (a.shadowRevisionId !== b.shadowRevisionId || a.targets.length !== b.targets.length) return false;
  const shares = new Map(a.targets.map((target) => [target.revisionId, target.percent]));
  return b.targets.every((target) => shares.get(target.revisionId) === target.percent);
}

/** Every revision a split names: its targets and its shadow. */
export function revisionsOf(split: StoredSplit | null): string[] {
  if (!split) return [];
  return [...split.targets.map((target) => target.revisionId), ...(split.shadowRevisionId ? [split.shadowRevisionId] : [])];
}

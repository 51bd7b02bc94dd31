import { checkSplit, sameSplit, withNewTarget } from './traffic';

const split = (shares: Record<string, number>, shadowRevisionId = '') => ({ targets: Object.entries(shares).map(([revisionId, percent]) => ({ revisionId, percent })), shadowRevisionId });

describe('traffic splits', () => {
  it('gives a new revision its share and the others the rest in their proportions, in whole percents', () => {
    expect(withNewTarget(split({ a: 100 }), 'b', 10)).toEqual(split({ a: 90, b: 10 }));
    expect(withNewTarget(split({ a: 50, b: 50 }), 'c', 25)).toEqual(split({ a: 38, b: 37, c: 25 }));
    expect(withNewTarget(split({ a: 60, b: 40 }), 'c', 100)).toEqual(split({ c: 100 }));
    // None of it: the split stays, and the revision waits for SetTraffic.
    expect(withNewTarget(split({ a: 100 }, 's'), 'b', 0)).toEqual(split({ a: 100 }, 's'));
  });

  it('drops a target whose share rounds to nothing', () => {
    expect(withNewTarget(split({ a: 99, b: 1 }), 'c', 60)).toEqual(split({ a: 40, c: 60 }));
  });

  it.each([
    ['percents that sum to 90', split({ a: 50, b: 40 }), 'traffic.targets: percents sum to 90'],
    ['no target', split({}), 'traffic.targets'],
    ['a zero percent', split({ a: 100, b: 0 }), 'traffic.targets[1].percent'],
    ['a revision named twice', { targets: [{ revisionId: 'a', percent: 50 }, { revisionId: 'a', percent: 50 }], shadowRevisionId: '' }, 'traffic.targets[1].revision_id'],
    ['a shadow that is also a target', split({ a: 100 }, 'a'), 'traffic.shadow_revision_id'],
  ])('refuses %s, naming the field', (_case, given, message) => {
    expect(() => checkSplit(given)).toThrow(message);
  });

  it('compares splits by share, in any order', () => {
    expect(sameSplit(split({ a: 40, b: 60 }), split({ b: 60, a: 40 }))).toBe(true);
    expect(sameSplit(split({ a: 40, b: 60 }), split({ a: 60, b: 40 }))).toBe(false);
    expect(sameSplit(split({ a: 100 }), split({ a: 100 }, 's'))).toBe(false);
  });
});

import { defaultDetector } from './detector-policy';

describe('defaultDetector', () => {
  it.each([
    ['numeric', 10, 0, 'ks'],
    ['numeric', 1000, 0, 'ks'],
    ['numeric', 1001, 0, 'wasserstein'],
    ['categorical', 1000, 2, 'z-test'],
    ['categorical', 1000, 1, 'z-test'],
    ['categorical', 1000, 3, 'chi-square'],
    ['categorical', 1001, 2, 'jensen-shannon'],
    ['categorical', 50_000, 40, 'jensen-shannon'],
  ] as const)('picks for a %s column of %d reference rows and %d categories: %s', (kind, referenceRows, categories, expected) => {
    expect(defaultDetector({ kind, referenceRows, categories })).toBe(expected);
  });
});

import type { DriftColumn } from '@trellis/plugin-sdk';
import { createPluginInstance } from '@trellis/plugin-sdk/testing';
import vectors from '../test/vectors/vectors.json';
import plugin from './index';
import { oneSampleSurvival, smirnovSurvival } from './kolmogorov';
import { normalSurvival, upperGamma } from './special';

const TOLERANCE = 1e-6;

describe(`drift-stats against scipy ${vectors.scipy} (test/vectors/generate.py)`, () => {
  it.each(vectors.cases.map((c) => [`${c.method}: ${c.name}`, c] as const))('%s gives scipy\'s statistic and p-value or distance', async (_, vector) => {
    const detector = await createPluginInstance(plugin, { method: vector.method });
    const column = (values: unknown[]) => ({ type: vector.type, values }) as DriftColumn;
    const score = await detector.score(await detector.fit(column(vector.reference)), column(vector.current));
    const value = score.measure === 'p-value' ? score.pValue : score.distance;
    expect(Math.abs(value - vector.expected.value)).toBeLessThan(TOLERANCE);
    expect(Math.abs(score.statistic - vector.expected.statistic)).toBeLessThan(TOLERANCE * Math.max(1, Math.abs(vector.expected.statistic)));
  });

  it('computes the regularized upper incomplete gamma function as scipy.special.gammaincc', () => {
    for (const { a, x, value } of vectors.special.upperGamma) expect([a, x, Math.abs(upperGamma(a, x) - value) < 1e-12]).toEqual([a, x, true]);
  });

  it('computes the normal tail as scipy.stats.norm.sf', () => {
    for (const { z, value } of vectors.special.normalSurvival) expect([z, Math.abs(normalSurvival(z) - value) < 1e-12]).toEqual([z, true]);
  });

  it('computes the one-sided Smirnov tail as scipy.special.smirnov', () => {
    for (const { n, d, value } of vectors.special.smirnovSurvival) expect([n, d, Math.abs(smirnovSurvival(n, d) - value) < TOLERANCE]).toEqual([n, d, true]);
  });

  it('computes the one-sample two-sided tail as scipy.stats.kstwo.sf where it claims to', () => {
    for (const { n, d, value } of vectors.special.oneSampleSurvival) expect([n, d, Math.abs(oneSampleSurvival(n, d) - value) < TOLERANCE]).toEqual([n, d, true]);
  });
});

import { describeDriftConformance } from './drift.conformance';
import { MemoryDriftDetector } from './memory-drift-detector';

describeDriftConformance('memory ks (a p-value)', () => new MemoryDriftDetector('ks'));
describeDriftConformance('memory psi (a distance)', () => new MemoryDriftDetector('psi'));

describe('MemoryDriftDetector statistics', () => {
  it('gives the KS distance and the asymptotic Kolmogorov p-value of a known case', async () => {
    // A uniform reference of 1000 values; 1000 evenly spread values moved by 0.06: D = 0.0605,
    // lambda = (sqrt(500) + 0.12 + 0.11 / sqrt(500)) * D = 1.3604, Q(lambda) = 0.0494 (just under 5%).
    const ks = new MemoryDriftDetector('ks');
    const reference = await ks.fit({ type: 'numeric', summary: 'quantiles', count: 1000, quantiles: [{ p: 0, value: 0 }, { p: 1, value: 1 }] });
    const current = Array.from({ length: 1000 }, (_, i) => (i + 0.5) / 1000 + 0.06);
    const score = await ks.score(reference, { type: 'numeric', values: current });
    expect(score.statistic).toBeCloseTo(0.0605, 6);
    expect(score).toMatchObject({ measure: 'p-value', pValue: expect.closeTo(0.04938, 4), drifted: true });
  });

  it('gives the PSI of known category shares, with a bin for categories the reference never had', async () => {
    const psi = new MemoryDriftDetector('psi');
    const reference = await psi.fit({ type: 'categorical', summary: 'categories', counts: { a: 50, b: 50 } });
    const current = [...Array<string>(80).fill('a'), ...Array<string>(20).fill('b')];
    // (0.8 - 0.5) ln(0.8 / 0.5) + (0.2 - 0.5) ln(0.2 / 0.5) = 0.41589
    expect(await psi.score(reference, { type: 'categorical', values: current })).toMatchObject({ measure: 'distance', distance: expect.closeTo(0.41589, 4), drifted: true });
    const unseen = await psi.score(reference, { type: 'categorical', values: [...current.slice(0, 50), ...Array<string>(50).fill('new')] });
    expect(unseen).toMatchObject({ measure: 'distance', distance: expect.any(Number) });
    expect(unseen.statistic).toBeGreaterThan(1);
  });

  it('refuses a method it does not have, naming the two it has', () => {
    expect(() => new MemoryDriftDetector('chi2' as never)).toThrow("method must be 'ks' or 'psi'");
  });
});

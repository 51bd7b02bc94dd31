import { checkManifest, PluginConfigError } from '@trellis/plugin-sdk';
import { createPluginInstance, describeDriftConformance } from '@trellis/plugin-sdk/testing';
import packageJson from '../package.json';
import plugin from './index';

const detector = (config: object) => createPluginInstance(plugin, config);

describe('drift-stats', () => {
  it('declares a manifest the host loads, of the kind its package.json names', () => {
    expect(checkManifest(plugin.manifest)).toBeUndefined();
    expect(plugin.manifest).toMatchObject({ kind: 'drift', id: 'drift-stats' });
    expect(packageJson.trellis.kind).toBe(plugin.manifest.kind);
  });

  it('refuses an unknown method, an unknown key and a p-value threshold of 1 or more, naming them', async () => {
    await expect(detector({ method: 'anderson' })).rejects.toThrow(/method/);
    await expect(detector({ method: 'ks', bins: 3 })).rejects.toThrow(PluginConfigError);
    await expect(detector({ method: 'ks', threshold: 2 })).rejects.toThrow(/threshold/);
  });

  it('refuses a z-test on a column of more than two categories, naming the count', async () => {
    const z = await detector({ method: 'z-test' });
    const reference = await z.fit({ type: 'categorical', values: ['a', 'b'] });
    await expect(z.score(reference, { type: 'categorical', values: ['a', 'c'] })).rejects.toThrow(/3 categories/);
  });

  it('refuses a window whose typed array holds NaN or Infinity, naming the value', async () => {
    const wasserstein = await detector({ method: 'wasserstein' });
    const reference = await wasserstein.fit({ type: 'numeric', values: [1, 2, 3] });
    await expect(wasserstein.score(reference, { type: 'numeric', values: Float64Array.of(1, Number.NaN) })).rejects.toThrow(/value 1 is NaN/);
    await expect(wasserstein.score(reference, { type: 'numeric', values: Float64Array.of(Infinity, 1) })).rejects.toThrow(/value 0 is Infinity/);
  });

  it.each(['ks', 'wasserstein', 'psi'])('%s scores the same against a 20,000-value reference stored as JSON and read back', async (method) => {
    const numbers = (shift: number) => Float64Array.from({ length: 20_000 }, (_, i) => Math.round(Math.sin(i * 12.9898 + shift) * 43758.5453 * 100) / 100);
    const stats = await detector({ method });
    const reference = await stats.fit({ type: 'numeric', values: numbers(0) });
    const stored = JSON.stringify(reference);
    const window = { type: 'numeric' as const, values: numbers(0.5) };
    expect(await stats.score(JSON.parse(stored), window)).toEqual(await stats.score(reference, window));
  });

  it('gives a chi-square p-value of 0 when the window holds a category the reference never had', async () => {
    const chi = await detector({ method: 'chi-square' });
    const reference = await chi.fit({ type: 'categorical', summary: 'categories', counts: { a: 3, b: 1 } });
    expect(await chi.score(reference, { type: 'categorical', values: ['a', 'b', 'c', null] })).toMatchObject({ pValue: 0, drifted: true });
  });
});

for (const method of ['ks', 'chi-square', 'wasserstein', 'jensen-shannon', 'psi']) describeDriftConformance(`drift-stats ${method}`, () => detector({ method }));
// The proportion test handles binary columns only, so the suite draws two categories for it.
describeDriftConformance('drift-stats z-test', () => detector({ method: 'z-test' }), { categories: 2 });

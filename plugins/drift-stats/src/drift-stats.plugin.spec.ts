import { checkManifest, PluginConfigError } from '@trellis/plugin-sdk';
import { createPluginInstance, describeDriftConformance } from '@trellis/plugin-sdk/testing';
import packageJson from '../package.json';
import plugin from './index';

const detector = (config: object = {}) => createPluginInstance(plugin, config);

describe('drift-stats', () => {
  it('declares a manifest the host loads, of the kind its package.json names', () => {
    expect(checkManifest(plugin.manifest)).toBeUndefined();
    expect(plugin.manifest).toMatchObject({ kind: 'drift', id: 'drift-stats' });
    expect(packageJson.trellis.kind).toBe(plugin.manifest.kind);
  });

  it('refuses an unknown config key and a negative threshold, naming them', async () => {
    await expect(detector({ method: 'ks' })).rejects.toThrow(PluginConfigError);
    await expect(detector({ method: 'ks' })).rejects.toThrow(/method/);
    await expect(detector({ threshold: -1 })).rejects.toThrow(/threshold/);
  });

  it('measures a numeric shift in standard deviations of the reference', async () => {
    const shift = await detector({ threshold: 0.5 });
    const reference = await shift.fit({ type: 'numeric', values: [1, 3, 1, 3] });
    expect(await shift.score(reference, { type: 'numeric', values: [2.5, 3.5, null] })).toEqual({ measure: 'distance', statistic: 1, distance: 1, threshold: 0.5, drifted: true });
  });

  it('measures a categorical change as the total variation distance of the shares', async () => {
    const shift = await detector();
    const reference = await shift.fit({ type: 'categorical', summary: 'categories', counts: { a: 3, b: 1 } });
    expect(await shift.score(reference, { type: 'categorical', values: ['a', 'b', 'c', 'c'] })).toMatchObject({ distance: 0.5, drifted: true });
  });
});

describeDriftConformance('drift-stats', () => detector());

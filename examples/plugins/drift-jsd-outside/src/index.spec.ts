import { PluginConfigError } from '@trellis/plugin-sdk';
import { createPluginInstance, describeDriftConformance } from '@trellis/plugin-sdk/testing';
import plugin from './index';

describe('drift-jsd-outside', () => {
  it('refuses a threshold above 1, naming threshold', async () => {
    const failure = createPluginInstance(plugin, { threshold: 2 });
    await expect(failure).rejects.toBeInstanceOf(PluginConfigError);
    await expect(failure).rejects.toThrow(/threshold/);
  });

  it('scores identical shares 0 and disjoint categories 1', async () => {
    const detector = await createPluginInstance(plugin, {});
    const reference = await detector.fit({ type: 'categorical', values: ['a', 'b', 'a', 'b'] });
    expect(await detector.score(reference, { type: 'categorical', values: ['b', 'a'] })).toMatchObject({ distance: 0, drifted: false });
    expect(await detector.score(reference, { type: 'categorical', values: ['c', 'd'] })).toMatchObject({ distance: 1, drifted: true });
  });
});

describeDriftConformance('drift-jsd-outside', () => createPluginInstance(plugin, {}));

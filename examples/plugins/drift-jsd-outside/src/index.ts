import { definePlugin, z } from '@trellis/plugin-sdk';
import { JensenShannonDetector } from './jensen-shannon-detector';

/** The config of an instance: `drift.<name>.config` in trellis.yaml, checked before `create()`. */
export const jensenShannonConfig = z
  .object({
    /** The distance above which a window counts as drifted (0 is identical, 1 is disjoint). */
    threshold: z.number().min(0).max(1).default(0.1),
  })
  .strict();

/** Drift of categorical columns as the Jensen-Shannon distance between category shares. */
export default definePlugin({
  manifest: { kind: 'drift', id: 'drift-jsd-outside', apiVersion: 'v1' },
  configSchema: jensenShannonConfig,
  create: (_ctx, config) => new JensenShannonDetector(config.threshold),
});

export { JensenShannonDetector } from './jensen-shannon-detector';

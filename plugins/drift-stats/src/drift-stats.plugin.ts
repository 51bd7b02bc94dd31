import { definePlugin, z } from '@trellis/plugin-sdk';
import { ShiftDetector } from './shift-detector';

/** The config of a drift-stats instance. */
export const driftStatsConfig = z
  .object({
    /** The distance above which a window has drifted, when `score` is given no threshold. */
    threshold: z.number().finite().min(0, 'threshold is a distance: 0 or more').default(0.2),
  })
  .strict();

/** Drift as a distance: a numeric column's mean shift in standard deviations, a categorical column's total variation distance. */
export const driftStatsPlugin = definePlugin({
  manifest: { kind: 'drift', id: 'drift-stats', apiVersion: 'v1' },
  configSchema: driftStatsConfig,
  create: (_ctx, config) => new ShiftDetector(config.threshold),
});

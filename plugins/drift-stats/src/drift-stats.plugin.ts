import { definePlugin, z } from '@trellis/plugin-sdk';
import { chiSquareMethod, jensenShannonMethod, zTestMethod } from './methods/categorical.method';
import { ksMethod } from './methods/ks.method';
import type { DriftMethod } from './methods/method';
import { psiMethod } from './methods/psi.method';
import { wassersteinMethod } from './methods/wasserstein.method';
import { StatDetector } from './stat-detector';

/** The methods an instance can be configured with. */
export const METHODS: Readonly<Record<string, DriftMethod>> = {
  ks: ksMethod,
  'chi-square': chiSquareMethod,
  'z-test': zTestMethod,
  wasserstein: wassersteinMethod,
  'jensen-shannon': jensenShannonMethod,
  psi: psiMethod,
};

/** The config of a drift-stats instance. */
export const driftStatsConfig = z
  .object({
    /** The statistical method of this instance. */
    method: z.enum(['ks', 'chi-square', 'z-test', 'wasserstein', 'jensen-shannon', 'psi']),
    /** Overrides the method's default threshold (a p-value strictly between 0 and 1, or a distance of 0 or more). */
    threshold: z.number().finite().min(0, 'threshold is 0 or more').optional(),
  })
  .strict();

/** Statistical drift detectors with Evidently's defaults, each instance one method. */
export const driftStatsPlugin = definePlugin({
  manifest: { kind: 'drift', id: 'drift-stats', apiVersion: 'v1' },
  configSchema: driftStatsConfig,
  create: (_ctx, config) => new StatDetector(config.method, METHODS[config.method], config.threshold),
});

import { definePlugin, z } from '@trellis/plugin-sdk';
import { LogisticRuntime } from './logistic-runtime';

/** The config of an instance: `runtime.<name>.config` in trellis.yaml, checked before `create()`. */
export const logisticRuntimeConfig = z
  .object({
    /** The most rows one `infer` call takes; a larger batch is refused with a RangeError. */
    maxBatchRows: z.number().int().min(1).max(1_000_000).default(65_536),
  })
  .strict();

/**
 * Logistic regressions stored as JSON. The module has no state of its own and its config is plain
 * JSON, so serving can load it by path in a worker thread.
 */
export default definePlugin({
  manifest: { kind: 'runtime', id: 'runtime-logistic-outside', apiVersion: 'v1' },
  configSchema: logisticRuntimeConfig,
  create: (_ctx, config) => new LogisticRuntime(config.maxBatchRows),
});

export { LOGISTIC_JSON_FORMAT, type LogisticModelFile, LogisticRuntime } from './logistic-runtime';

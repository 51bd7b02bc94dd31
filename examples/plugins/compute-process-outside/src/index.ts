import { definePlugin, z } from '@trellis/plugin-sdk';
import { ProcessBackend } from './process-backend';

/** The config of an instance: `compute.<name>.config` in trellis.yaml, checked before `create()`. */
export const processBackendConfig = z
  .object({
    /** How long a cancelled job's processes have after SIGTERM before SIGKILL, in milliseconds. */
    killAfterMs: z.number().int().min(0).max(600_000).default(5_000),
  })
  .strict();

/** Jobs as processes on the machine Trellis runs on: `command` runs as is, without a shell. */
export default definePlugin({
  manifest: { kind: 'compute', id: 'compute-process-outside', apiVersion: 'v1' },
  configSchema: processBackendConfig,
  create: (ctx, config) => new ProcessBackend(ctx.dataDir, config.killAfterMs),
});

export { ProcessBackend } from './process-backend';

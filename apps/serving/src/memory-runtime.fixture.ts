import { definePlugin, z } from '@trellis/plugin-sdk';
import { MemoryModelRuntime } from '@trellis/plugin-sdk/testing';

/** The SDK's in-memory model runtime as the plugin `runtime-memory`, for specs that need a runtime instance to name. */
export const memoryRuntime = definePlugin({
  manifest: { kind: 'runtime', id: 'runtime-memory', apiVersion: 'v1' },
  configSchema: z.object({}),
  create: () => new MemoryModelRuntime(),
});

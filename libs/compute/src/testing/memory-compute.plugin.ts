import { definePlugin, z } from '@trellis/plugin-sdk';
import { MemoryComputeBackend } from '@trellis/plugin-sdk/testing';

const GiB = 1024 ** 3;

/**
 * A compute plugin for the service's specs: each instance is a `MemoryComputeBackend` with 8 CPUs,
 * 32 GiB and `gpus` H100s of 80 GiB; its jobs run `echo`, `exit` and `sleep` in this process.
 */
export const memoryComputePlugin = definePlugin({
  manifest: { kind: 'compute', id: 'compute-memory', apiVersion: 'v1' },
  configSchema: z.object({ gpus: z.number().int().min(0).default(0) }),
  create: (_ctx, config) =>
    new MemoryComputeBackend({
      capacity: { total: { cpus: 8, memoryBytes: 32 * GiB, gpus: config.gpus ? { 'nvidia-h100': { count: config.gpus, memoryBytes: 80 * GiB } } : {} } },
    }),
});

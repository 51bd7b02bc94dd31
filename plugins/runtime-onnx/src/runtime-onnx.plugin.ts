import { definePlugin, z } from '@trellis/plugin-sdk';
import { OnnxModelRuntime } from './onnx-runtime';

/** The config of a runtime-onnx instance: plain JSON, as serving hands it to a worker thread. */
export const runtimeOnnxConfig = z
  .object({
    /** Threads one session run uses; 1 suits small models, where a run takes microseconds. */
    intraOpNumThreads: z.number().int().min(1, 'intraOpNumThreads is at least 1').default(1),
    /** Dynamic batching of a model loaded without batching options of its own. */
    batching: z
      .object({
        /** The most rows one run takes; 1 turns batching off. */
        maxBatchSize: z.number().int().min(1, 'batching.maxBatchSize is at least 1').default(64),
        /** The longest a call waits for others to join its batch, in milliseconds; 0 batches only what is already queued. */
        maxQueueDelayMs: z.number().min(0, 'batching.maxQueueDelayMs is at least 0').default(0),
      })
      .strict()
      .default({ maxBatchSize: 64, maxQueueDelayMs: 0 }),
  })
  .strict();

/**
 * Runs ONNX models with onnxruntime-node on the CPU. Serving imports this module by path in a
 * worker thread and calls `create()` there, so it keeps no state outside what `create()` returns.
 */
export const runtimeOnnxPlugin = definePlugin({
  manifest: { kind: 'runtime', id: 'runtime-onnx', apiVersion: 'v1' },
  configSchema: runtimeOnnxConfig,
  create: (_ctx, config) => new OnnxModelRuntime(config),
});

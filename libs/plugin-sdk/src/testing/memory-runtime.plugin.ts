import { z } from 'zod';
import { definePlugin } from '../define-plugin';
import { MemoryModelRuntime } from './memory-model-runtime';

/**
 * `MemoryModelRuntime` as a plugin module that follows the rule for runtime plugin modules (see
 * `ModelRuntime`): importable on its own, the plugin as its default export, a `create()` that needs
 * only its context. Its built JavaScript is what a spec hands `loadPluginInWorker`.
 */
export default definePlugin({
  manifest: { kind: 'runtime', id: 'runtime-memory', apiVersion: 'v1' },
  configSchema: z.object({}).strict(),
  create: () => new MemoryModelRuntime(),
});

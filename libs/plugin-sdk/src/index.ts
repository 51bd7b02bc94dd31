/**
 * @trellis/plugin-sdk: the contracts Trellis plugins fulfil, `definePlugin`, and (in `./testing`)
 * the conformance suites. Loading plugins and making their instances is the host's (`@trellis/platform`).
 * A plugin imports this package and nothing else of Trellis; it writes its config schema with the
 * `z` exported here, so it never depends on zod itself.
 */
/** zod 4, for `configSchema`: plugins write `z.object({...})` with this export and never import zod. */
export { z } from 'zod';

export * from './contracts';
export { watchByPolling, watchStatus, type WatchStatusOptions } from './compute/watch-status';
export { consoleLogger, noopLogger, type PluginContext, type PluginLogger } from './context';
export { type AnyPlugin, definePlugin, isPlugin, parsePluginConfig, type Plugin } from './define-plugin';
export * from './errors';
export { type ApiVersionOf, isPluginKind, isSupportedApiVersion, PLUGIN_KINDS, type PluginKind, SUPPORTED_API_VERSIONS } from './kinds';
export { checkManifest, type ManifestProblem, PLUGIN_ID_PATTERN, type PluginLoadFailure, type PluginManifest } from './manifest';
export { isSecretSchema, secret, SECRET_MARK, SECRET_REFERENCE_PREFIXES } from './secret';
export { iterateObjects } from './storage/iterate-objects';
export { compareKeys, validateObjectKey } from './storage/object-key';
export { loadPluginInWorker, type WorkerModelRuntime, type WorkerPluginOptions } from './runtime-worker';
export { DynamicBatcher } from './runtime/dynamic-batcher';
export { type CdfKnot, checkSummaryCounts, summaryKnots } from './drift/summary-knots';
export { checkBatching, rowsOf, splitRows, stackRows } from './runtime/rows';
export { pause, raceAbort } from './waiting';

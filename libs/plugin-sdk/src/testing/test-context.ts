import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PluginInstanceByKind } from '../contracts';
import { noopLogger, type PluginContext, type PluginLogger } from '../context';
import { parsePluginConfig, type Plugin } from '../define-plugin';
import type { PluginKind } from '../kinds';

/**
 * A `PluginContext` for a plugin's own specs: a fresh temporary data directory, a silent logger
 * unless one is given, and a signal that never aborts unless one is given.
 */
export function createTestContext(overrides: Partial<{ instanceName: string; logger: PluginLogger; dataDir: string; signal: AbortSignal }> = {}): PluginContext {
  return {
    instanceName: overrides.instanceName ?? 'test',
    logger: overrides.logger ?? noopLogger,
    dataDir: overrides.dataDir ?? mkdtempSync(join(tmpdir(), 'trellis-plugin-data-')),
    signal: overrides.signal ?? new AbortController().signal,
  };
}

/**
 * Makes an instance of `plugin` as a host would: checks `config` against its `configSchema`
 * (`PluginConfigError` naming each failing path), then calls `create()` with `ctx` (a fresh
 * `createTestContext()` by default).
 */
export async function createPluginInstance<K extends PluginKind>(plugin: Plugin<K>, config: unknown, ctx: PluginContext = createTestContext()): Promise<PluginInstanceByKind[K]> {
  return plugin.create(ctx, parsePluginConfig(plugin, ctx.instanceName, config));
}

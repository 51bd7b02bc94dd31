import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noopLogger, type PluginContext, type PluginLogger } from '../context';

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

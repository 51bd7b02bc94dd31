import type { PluginLoadFailure } from '@trellis/plugin-sdk';

/**
 * Errors of loading plugins and making their instances: the host's, not a plugin's. Each carries a
 * stable `code` the process maps to a start-up failure.
 */
abstract class HostPluginError extends Error {
  abstract readonly code: 'PLUGIN_LOAD' | 'PLUGIN_INSTANCE';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A plugin package listed in the configuration could not be loaded; the host must not start. */
export class PluginLoadError extends HostPluginError {
  readonly code = 'PLUGIN_LOAD';
  constructor(
    /** The package (or plugin source) as listed in the configuration. */
    readonly packageName: string,
    /** Which check refused it. */
    readonly failure: PluginLoadFailure,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`cannot load plugin package ${packageName}: ${message}`, options);
  }
}

/** A named instance could not be created or found: unknown plugin, duplicate or malformed name, bad create(). */
export class PluginInstanceError extends HostPluginError {
  readonly code = 'PLUGIN_INSTANCE';
}

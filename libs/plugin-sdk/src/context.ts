/**
 * The logger a plugin writes to. Same call shape as pino (`logger.info({ key }, 'wrote object')`),
 * so a host passes its pino child as is; plugins never import a logging library.
 */
export interface PluginLogger {
  /** Detail for whoever debugs the plugin. */
  debug(obj: object, msg?: string): void;
  /** Something worth knowing happened. */
  info(obj: object, msg?: string): void;
  /** Something went wrong but the plugin carried on. */
  warn(obj: object, msg?: string): void;
  /** An operation failed. */
  error(obj: object, msg?: string): void;
}

/** A logger that drops everything: the default where a host gives none. */
export const noopLogger: PluginLogger = Object.freeze({ debug: ignore, info: ignore, warn: ignore, error: ignore });

function ignore(): void {
  return undefined;
}

/** A logger that writes one line per call to the console, prefixed with `name`; for scripts and examples. */
export function consoleLogger(name: string): PluginLogger {
  const line = (msg: string | undefined, obj: object) => `[${name}] ${msg ?? ''} ${JSON.stringify(obj)}`.trim();
  return {
    debug: (obj, msg) => console.debug(line(msg, obj)),
    info: (obj, msg) => console.info(line(msg, obj)),
    warn: (obj, msg) => console.warn(line(msg, obj)),
    error: (obj, msg) => console.error(line(msg, obj)),
  };
}

/** What a host hands a plugin's `create()` for one named instance. */
export interface PluginContext {
  /** The instance's name, unique within its kind (`default`, `team-a-s3`). */
  readonly instanceName: string;
  /** Where the instance logs; already carries the instance's kind, plugin and name where the host adds them. */
  readonly logger: PluginLogger;
  /**
   * A directory that belongs to this instance alone, created before `create()` is called, kept
   * across restarts: caches, local state. Not a place for user data a storage plugin holds.
   */
  readonly dataDir: string;
  /** Aborted when the host shuts the instance down; long-running work (watches, timers) stops on it. */
  readonly signal: AbortSignal;
}

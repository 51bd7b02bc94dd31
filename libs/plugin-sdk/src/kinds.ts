/** Every kind of plugin Trellis knows, one contract each (see `contracts/`). */
export const PLUGIN_KINDS = ['storage', 'compute', 'drift', 'runtime', 'kms', 'notifier'] as const;

/** A kind of plugin: which contract its instances fulfil. */
export type PluginKind = (typeof PLUGIN_KINDS)[number];

/**
 * The contract versions this SDK supports, per kind. A plugin's `manifest.apiVersion` must be one
 * of these for its kind, or the host refuses to load it. A breaking change to a contract adds a
 * new version here; it never edits an existing one.
 */
export const SUPPORTED_API_VERSIONS = {
  storage: ['v1'],
  compute: ['v1'],
  drift: ['v1'],
  runtime: ['v1'],
  kms: ['v1'],
  notifier: ['v1'],
} as const satisfies Record<PluginKind, readonly string[]>;

/** The `apiVersion` values a plugin of kind `K` may declare. */
export type ApiVersionOf<K extends PluginKind> = (typeof SUPPORTED_API_VERSIONS)[K][number];

/** Whether `value` names a plugin kind this SDK knows. */
export function isPluginKind(value: unknown): value is PluginKind {
  return typeof value === 'string' && (PLUGIN_KINDS as readonly string[]).includes(value);
}

/** Whether this SDK supports contract version `apiVersion` for `kind`. */
export function isSupportedApiVersion(kind: PluginKind, apiVersion: unknown): boolean {
  return typeof apiVersion === 'string' && (SUPPORTED_API_VERSIONS[kind] as readonly string[]).includes(apiVersion);
}

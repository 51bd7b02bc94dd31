import { type ApiVersionOf, isPluginKind, isSupportedApiVersion, PLUGIN_KINDS, type PluginKind, SUPPORTED_API_VERSIONS } from './kinds';

/** Why a plugin package was refused at load. */
export type PluginLoadFailure =
  | 'not-found'
  | 'import-failed'
  | 'not-a-plugin'
  | 'invalid-manifest'
  | 'unknown-kind'
  | 'kind-mismatch'
  | 'unsupported-api-version'
  | 'duplicate-id';

/** What a plugin says about itself; the host checks it before anything of the plugin runs. */
export interface PluginManifest<K extends PluginKind = PluginKind> {
  /** The contract it fulfils; must equal `trellis.kind` in its package.json. */
  kind: K;
  /** Unique among loaded plugins; configuration refers to the plugin by it (`storage-fs`). */
  id: string;
  /** The contract version it was written against (see `SUPPORTED_API_VERSIONS`). */
  apiVersion: ApiVersionOf<K>;
}

/** Plugin ids: lowercase letters, digits and single dashes, starting with a letter, at most 64 characters. */
export const PLUGIN_ID_PATTERN = /^(?=.{1,64}$)[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

/** Why a manifest was refused, as the loader reports it. */
export interface ManifestProblem {
  failure: PluginLoadFailure;
  message: string;
}

/** The first problem of `manifest`, or `undefined` when this SDK accepts it. */
export function checkManifest(manifest: unknown): ManifestProblem | undefined {
  if (typeof manifest !== 'object' || manifest === null) {
    return { failure: 'invalid-manifest', message: 'its manifest is missing; pass { kind, id, apiVersion } to definePlugin' };
  }
  const { kind, id, apiVersion } = manifest as Record<string, unknown>;
  if (!isPluginKind(kind)) {
    return {
      failure: 'unknown-kind',
      message: `its manifest has kind ${JSON.stringify(kind)}, which is not a plugin kind; the kinds are ${PLUGIN_KINDS.join(', ')}`,
    };
  }
  if (typeof id !== 'string' || !PLUGIN_ID_PATTERN.test(id)) {
    return {
      failure: 'invalid-manifest',
      message: `its manifest has id ${JSON.stringify(id)}; an id is lowercase letters, digits and single dashes, starting with a letter, at most 64 characters (like "storage-fs")`,
    };
  }
  if (!isSupportedApiVersion(kind, apiVersion)) {
    return {
      failure: 'unsupported-api-version',
      message: `plugin ${id} declares apiVersion ${JSON.stringify(apiVersion)} of the ${kind} contract, which this host does not support; supported: ${SUPPORTED_API_VERSIONS[kind].join(', ')}`,
    };
  }
  return undefined;
}

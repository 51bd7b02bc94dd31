import { createHash } from 'node:crypto';
import type { PluginKind } from '@trellis/plugin-sdk';
import type { PluginInstances } from './plugin-instances';

/**
 * A fingerprint of the instance named `name`: a SHA-256 (hex) of its kind, plugin id and config
 * as the admin API shows it (secret references as they are, wrapped values as a fixed marker),
 * with object keys sorted. Two instances, in one service or in two, with equal fingerprints reach
 * the same backend the same way (a storage-fs root, a bucket), so one may act on the other's
 * objects: the registry copies a run's files inside storage rather than streaming them. It is a
 * hint, not a proof: a relative path or a host-local root can name other storage in another
 * process, so a caller falls back to the slow way when acting on it fails. NOT_FOUND as
 * `PluginInstances.describe` when there is no such instance.
 */
export async function instanceFingerprint<K extends PluginKind>(instances: PluginInstances<K>, name: string): Promise<string> {
  const info = await instances.describe(name);
  return createHash('sha256')
    .update(canonicalJson({ kind: info.kind, plugin: info.plugin, config: info.config ?? {} }))
    .digest('hex');
}

/** JSON with every object's keys sorted, so equal values give equal text whatever their key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, entry]) => entry !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, entry]) => `${JSON.stringify(key)}:${canonicalJson(entry)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

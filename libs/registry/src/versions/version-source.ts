import { checkRequired, InvalidArgumentError } from '@trellis/platform';
import { checkAlias, checkModelName, versionOf } from '../registry-limits';
import { versionPathOf } from './version-files';

/** What a version's `source` says its files are. */
export type VersionSource =
  /** Files under a path of a run's artifacts ('' for all of them), copied into the registry. */
  | { kind: 'run'; runId: string; path: string }
  /** Another version of a model in the same project, by number or by alias; its copy is copied. */
  | { kind: 'model'; name: string; version: number }
  | { kind: 'model'; name: string; alias: string }
  /** Anything else (s3://, https://, a path): kept as a reference; the registry stores no files. */
  | { kind: 'reference'; uri: string };

const RUN_ID = /^[a-zA-Z0-9][\w-]{0,63}$/;

/** Reads a CreateVersion `source`, INVALID_ARGUMENT naming `source` when a runs:/ or models:/ URI is malformed. */
export function parseSource(source: string): VersionSource {
  checkRequired(source, 'source');
  if (source.startsWith('runs:/')) {
    const rest = source.slice('runs:/'.length);
    const slash = rest.indexOf('/');
    const runId = slash === -1 ? rest : rest.slice(0, slash);
    if (!RUN_ID.test(runId)) throw new InvalidArgumentError(`"${source}" must be runs:/<run_id>/<path>`, 'source');
    return { kind: 'run', runId, path: versionPathOf(slash === -1 ? '' : rest.slice(slash + 1), 'source') };
  }
  if (source.startsWith('models:/')) {
    const rest = source.slice('models:/'.length);
    // Aliases never contain "@" or "/", so the last one of either separates them from the name.
    const at = rest.lastIndexOf('@');
    const slash = rest.lastIndexOf('/');
    if (at > slash) {
      const [name, alias] = [rest.slice(0, at), rest.slice(at + 1)];
      checkModelName(name, 'source');
      checkAlias(alias, 'source');
      return { kind: 'model', name, alias };
    }
    if (slash === -1 || !/^\d+$/.test(rest.slice(slash + 1))) {
      throw new InvalidArgumentError(`"${source}" must be models:/<name>/<version> or models:/<name>@<alias>`, 'source');
    }
    const name = rest.slice(0, slash);
    checkModelName(name, 'source');
    return { kind: 'model', name, version: versionOf(Number(rest.slice(slash + 1)), 'source') };
  }
  // registry:// names the registry's own copies; a reference to one would reach another project's files.
  if (/^registry:/i.test(source)) throw new InvalidArgumentError(`"${source}" names a registry copy; use models:/<name>/<version> or models:/<name>@<alias>`, 'source');
  return { kind: 'reference', uri: source };
}

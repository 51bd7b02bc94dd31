import { checkRequired, excerpt, fullyPercentDecoded, InvalidArgumentError } from '@trellis/platform';
import { checkAlias, checkModelName, versionOf } from '../common/registry-limits';
import { versionPathOf } from '../version-files/version-file.paths';

/** What a version's `source` says its files are. */
export type VersionSource =
  /**
   * Files under a path of a run's artifacts ('' for all of them), copied into the registry; named
   * `runs:/<run_id>/<path>`, or by the run's artifact location (`experimentId` then says the run's experiment).
   */
  | { kind: 'run'; runId: string; path: string; experimentId?: string }
  /** Another version of a model in the same project, by number or by alias; its copy is copied. */
  | { kind: 'model'; name: string; version: number }
  | { kind: 'model'; name: string; alias: string }
  /** Anything else (s3://, https://, a path): kept as a reference; the registry stores no files. */
  | { kind: 'reference'; uri: string };

const RUN_ID = /^[a-zA-Z0-9][\w-]{0,63}$/;
/** A run's artifact location, as tracking gives it (`mlflow-artifacts:/<experiment_id>/<run_id>/artifacts`), and a path under it. */
const RUN_ARTIFACTS = /^mlflow-artifacts:(?:\/\/[^/]*)?\/(\d+)\/([^/]+)\/artifacts(?:\/(.*))?$/;

/**
 * Reads a CreateVersion `source`, INVALID_ARGUMENT naming `source` when a runs:/ or models:/ URI is
 * malformed, and in MLflow's words when it has relative path references (checkAbsoluteSource).
 */
export function parseSource(source: string): VersionSource {
  checkRequired(source, 'source');
  checkAbsoluteSource(source);
  const inRun = RUN_ARTIFACTS.exec(source);
  if (inRun) {
    const [, experimentId, runId, path = ''] = inRun;
    if (!RUN_ID.test(runId)) throw new InvalidArgumentError(`"${excerpt(source)}" names no run: expected mlflow-artifacts:/<experiment_id>/<run_id>/artifacts/<path>`, 'source');
    return { kind: 'run', runId, path: versionPathOf(path, 'source'), experimentId };
  }
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

/**
 * Refuses a source whose path is not absolute and normal once fully percent-decoded (`..`, `.`,
 * `..%2f`, `%00`, a relative path, no path at all), as MLflow's server refuses it, with its message:
 * a reference must not lead a reader of the URI outside the place it names.
 */
export function checkAbsoluteSource(source: string): void {
  const decoded = fullyPercentDecoded(source);
  const path = urlPath(decoded).replace(/\/+$/, '').replace(/\/+/g, '/');
  const normal = path.startsWith('/') && !path.includes('\0') && !path.split('/').includes('.') && !decoded.split('/').includes('..');
  if (!normal) {
    throw new InvalidArgumentError(
      `Invalid model version source: '${excerpt(source)}'. If supplying a source as an http, https, local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path references present. Please provide an absolute path.`,
    );
  }
}

/** The path of a URI as Python's `urlsplit` reads it: after the scheme and authority, before `?` and `#`. */
function urlPath(uri: string): string {
  const scheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:/.exec(uri);
  let rest = scheme ? uri.slice(scheme[0].length) : uri;
  if (rest.startsWith('//')) rest = rest.slice(2).replace(/^[^/?#]*/, '');
  return rest.replace(/[?#].*$/s, '');
}

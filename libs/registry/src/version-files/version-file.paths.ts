import { InvalidArgumentError } from '@trellis/platform';

/** The key prefix of a version's files in the registry's store (of all a model's versions without `version`). */
export function versionPrefix(projectId: string, modelId: number, version?: number): string {
  return version === undefined ? `models/${projectId}/${modelId}/` : `models/${projectId}/${modelId}/${version}/`;
}

/** Where a version's copy lives, as clients see it in `storage_uri`: the registry's storage instance and the prefix in it. */
export function storageUriOf(store: string, prefix: string): string {
  return `registry://${store}/${prefix}`;
}

/**
 * A path relative to a version's root, normalised: `/` separators, no empty, `.` or `..`
 * segments, no backslashes or control characters; '' is the root. Nothing a client sends can
 * reach outside the version's prefix.
 */
export function versionPathOf(path: string, field = 'path'): string {
  const trimmed = path.replace(/\/+$/, '');
  // eslint-disable-next-line no-control-regex
  const unsafe = /[\u0000-\u001f\u007f\\]/.test(trimmed) || trimmed.split('/').some((segment) => ['', '.', '..'].includes(segment));
  if (trimmed !== '' && unsafe) {
    throw new InvalidArgumentError(`"${path}" must be a relative path without empty, . or .. segments, backslashes or control characters`, field);
  }
  return trimmed;
}

import { InvalidArgumentError } from '@trellis/platform';

const MAX_PATH_LENGTH = 1024;

/**
 * An artifact path relative to a run's root, normalised: `/` separators, no empty, `.` or `..`
 * segments, no leading `/`, no backslashes or control characters. `allowRoot` accepts '' (the
 * root itself, for listings). Nothing a client sends can reach outside the run's prefix.
 */
export function artifactPathOf(path: string, { allowRoot = false } = {}): string {
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed === '') {
    if (allowRoot) return '';
    throw new InvalidArgumentError('must name a file under the run\'s artifact root', 'path');
  }
  if (trimmed.length > MAX_PATH_LENGTH) throw new InvalidArgumentError(`is ${trimmed.length} characters; the limit is ${MAX_PATH_LENGTH}`, 'path');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(trimmed)) throw new InvalidArgumentError('must not contain backslashes or control characters', 'path');
  if (trimmed.startsWith('/')) throw new InvalidArgumentError(`"${path}" must be relative to the run's artifact root`, 'path');
  if (trimmed.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw new InvalidArgumentError(`"${path}" must not contain empty, . or .. segments`, 'path');
  }
  return trimmed;
}

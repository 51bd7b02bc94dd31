import { fullyPercentDecoded } from '@trellis/platform';
import { invalidParameter } from './mlflow-errors';

/**
 * An artifact path as a client sends it, checked as MLflow's `validate_path_is_safe` checks it
 * (fully percent-decoded, no `..` segment, not absolute, no `#`: else 400 "Invalid path"), less
 * the empty and `.` segments a file system resolves away: `download_artifacts(artifact_path=".")`
 * lists `<root>/.`, the root itself.
 */
export function safeArtifactPath(path: string): string {
  const decoded = fullyPercentDecoded(path);
  if (decoded.includes('#') || decoded.startsWith('/') || decoded.split('/').includes('..')) throw invalidParameter('Invalid path');
  return path
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.')
    .join('/');
}

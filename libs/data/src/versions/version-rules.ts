import { excerpt, InvalidArgumentError } from '@trellis/platform';
import { validateObjectKey } from '@trellis/plugin-sdk';

/** The most files one version may hold. */
export const MAX_FILES_PER_VERSION = 1_000_000;

const SHA256 = /^[0-9a-f]{64}$/;
/** A tag: letters, digits, `.`, `_` and `-`, not only digits (a reference's `/<n>` names a number). */
const TAG = /^[A-Za-z0-9._-]{1,128}$/;
// eslint-disable-next-line no-control-regex -- control characters are what this looks for
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A file of a manifest as a commit sends it. */
export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
  mediaType: string;
}

/** What a commit's header says. */
export interface CommitHeader {
  datasetId: string;
  /** 0 for none. */
  parentVersion: number;
  message: string;
  /** The files sent are the whole version; the parent is only its lineage. */
  fullManifest: boolean;
  tags: string[];
}

/** A version's path: the storage key rules (no leading `/`, no `.` or `..` segment, no control character, at most 1024 bytes). */
export function checkPath(path: string, field: string): void {
  try {
    validateObjectKey(path);
  } catch (error) {
    throw new InvalidArgumentError(`"${excerpt(path)}" is not a valid path: ${(error as Error).message.replace(/^.*?: /, '')}`, field);
  }
}

/** One manifest file: its path, a size that is a whole number of bytes, a lowercase sha256 and a media type of printable characters. */
export function checkManifestFile(file: ManifestFile, field: string): void {
  checkPath(file.path, `${field}.path`);
  if (!Number.isSafeInteger(file.size) || file.size < 0) throw new InvalidArgumentError(`must be a size in bytes, not ${file.size}`, `${field}.size_bytes`);
  if (!SHA256.test(file.sha256)) throw new InvalidArgumentError(`"${excerpt(file.sha256)}" is not a sha256: 64 lowercase hex characters`, `${field}.sha256`);
  if (file.mediaType.length > 255 || CONTROL.test(file.mediaType)) throw new InvalidArgumentError('must be at most 255 printable characters', `${field}.media_type`);
}

/** A tag: 1 to 128 of letters, digits, `.`, `_` and `-`, not only digits. */
export function checkTag(tag: string, field: string): void {
  if (!TAG.test(tag) || /^\d+$/.test(tag)) {
    throw new InvalidArgumentError(`"${excerpt(tag)}" is not a tag: use 1 to 128 letters, digits, '.', '_' and '-', not only digits`, field);
  }
}

/** What a reference names: a dataset by name, and its version by number or by tag. */
export type ParsedReference = { datasetName: string; version: number; tag?: undefined } | { datasetName: string; tag: string; version?: undefined };

const REFERENCE_PREFIX = 'datasets:/';

/**
 * Reads `datasets:/<name>/<n>` or `datasets:/<name>@<tag>`. A dataset name may hold `/` and `@`:
 * the number is what follows the last `/`, the tag what follows the last `@`.
 */
export function parseReference(reference: string, field = 'reference'): ParsedReference {
  const refuse = () => new InvalidArgumentError(`"${excerpt(reference)}" is not a dataset reference: write datasets:/<name>/<version> or datasets:/<name>@<tag>`, field);
  if (!reference.startsWith(REFERENCE_PREFIX)) throw refuse();
  const rest = reference.slice(REFERENCE_PREFIX.length);
  const numbered = /^(.+)\/([1-9]\d{0,15})$/.exec(rest);
  if (numbered) return { datasetName: numbered[1], version: Number(numbered[2]) };
  const at = rest.lastIndexOf('@');
  if (at > 0 && TAG.test(rest.slice(at + 1)) && !/^\d+$/.test(rest.slice(at + 1))) return { datasetName: rest.slice(0, at), tag: rest.slice(at + 1) };
  throw refuse();
}

/** The reference that always names version `version` of the dataset `datasetName`. */
export function referenceOf(datasetName: string, version: number): string {
  return `${REFERENCE_PREFIX}${datasetName}/${version}`;
}

import { checkLength, checkNoControlCharacters, checkNoNul, checkRequired, InvalidArgumentError } from '@trellis/platform';

/** MLflow's limits on registered models, which the registry enforces as they are. */
export const REGISTRY_LIMITS = Object.freeze({
  modelNameLength: 256,
  tagKeyLength: 250,
  tagValueLength: 5000,
  aliasLength: 255,
  descriptionLength: 5000,
  sourceLength: 4096,
  runLinkLength: 4096,
  formatLength: 64,
  tagsPerRequest: 100,
  runIdsPerSearch: 1000,
  statusMessageLength: 5000,
});

/** A tag on a model or a version. */
export interface Tag {
  key: string;
  value: string;
}

/**
 * A model name: 1 to 256 characters, no control character, no `/` (it would make
 * `models:/<name>/<version>` ambiguous).
 */
export function checkModelName(name: string, field = 'name'): void {
  checkRequired(name.trim(), field);
  checkLength(name, REGISTRY_LIMITS.modelNameLength, field);
  checkNoControlCharacters(name, field);
  if (name.includes('/')) throw new InvalidArgumentError(`"${name}" must not contain "/"`, field);
}

/** A free text of a model or version (a description, a source, a pattern): at most `limit` characters, no NUL. */
export function checkText(text: string, limit: number, field: string): void {
  checkLength(text, limit, field);
  checkNoNul(text, field);
}

/** A tag of a model or version: key 1 to 250 characters, value at most 5000 and no NUL. */
export function checkTag(tag: Tag, field: string): void {
  checkTagKey(tag.key, `${field}.key`);
  checkText(tag.value, REGISTRY_LIMITS.tagValueLength, `${field}.value`);
}

/** A tag key alone, as DeleteModelTag and DeleteVersionTag take it: 1 to 250 characters, no control character. */
export function checkTagKey(key: string, field = 'key'): void {
  checkRequired(key, field);
  checkLength(key, REGISTRY_LIMITS.tagKeyLength, field);
  checkNoControlCharacters(key, field);
}

/** Every tag of a request, naming the first bad one (`tags[2].key`). */
export function checkTags(tags: Tag[], field = 'tags'): void {
  if (tags.length > REGISTRY_LIMITS.tagsPerRequest) {
    throw new InvalidArgumentError(`has ${tags.length} entries; the limit is ${REGISTRY_LIMITS.tagsPerRequest}`, field);
  }
  tags.forEach((tag, index) => checkTag(tag, `${field}[${index}]`));
}

const ALIAS_PATTERN = /^[\w-]*$/;
const VERSION_LIKE = /^v\d+$/i;

/**
 * An alias by MLflow's rules: 1 to 255 letters, digits, `_` and `-`; not `latest` in any case
 * (MLflow resolves it to the newest version) and not `v<digits>` (read as a version number).
 */
export function checkAlias(alias: string, field = 'alias'): void {
  checkRequired(alias, field);
  checkLength(alias, REGISTRY_LIMITS.aliasLength, field);
  if (!ALIAS_PATTERN.test(alias)) throw new InvalidArgumentError(`"${alias}" may only contain letters, digits, underscores and dashes`, field);
  if (alias.toLowerCase() === 'latest') throw new InvalidArgumentError('"latest" is reserved: it always means the newest version', field);
  if (VERSION_LIKE.test(alias)) throw new InvalidArgumentError(`"${alias}" is reserved: v<number> reads as a version`, field);
}

/** A version number as stored: a positive integer that fits 32 bits. */
export function versionOf(version: bigint | number, field = 'version'): number {
  const value = Number(version);
  if (!Number.isSafeInteger(value) || value < 1 || value > 2_147_483_647) throw new InvalidArgumentError(`${version} is not a version number`, field);
  return value;
}

/** Tags with one entry per key, the last one given. */
export function lastWins(tags: Tag[]): Tag[] {
  return [...new Map(tags.map((tag) => [tag.key, tag.value])).entries()].map(([key, value]) => ({ key, value }));
}

import { InvalidArgumentError } from './domain-errors';

/** INVALID_ARGUMENT naming `field` unless `value` is non-empty. */
export function checkRequired(value: string, field: string): void {
  if (value.length === 0) throw new InvalidArgumentError('is required', field);
}

/** INVALID_ARGUMENT naming `field`, its length and the limit when `value` is longer than `limit`. */
export function checkLength(value: string, limit: number, field: string): void {
  if (value.length > limit) throw new InvalidArgumentError(`is ${value.length} characters; the limit is ${limit}`, field);
}

/**
 * Checks an update's `update_mask` (its paths): INVALID_ARGUMENT unless it names at least one field
 * and only fields of `updatable`, so an update changes exactly what its caller named and nothing as
 * a side effect; `*` alone names every updatable field. Returns the mask as a set of those fields.
 */
export function checkUpdateMask<Field extends string>(mask: readonly string[], updatable: readonly Field[]): ReadonlySet<Field> {
  if (mask.length === 0) throw new InvalidArgumentError(`name the fields to change: ${updatable.join(', ')}`, 'update_mask');
  if (mask.length === 1 && mask[0] === '*') return new Set(updatable);
  const unknown = mask.find((field) => !(updatable as readonly string[]).includes(field));
  if (unknown !== undefined) throw new InvalidArgumentError(`"${excerpt(unknown, 64)}" cannot be changed; the fields are ${updatable.join(', ')}`, 'update_mask');
  return new Set(mask as readonly Field[]);
}

/** Longest part of a caller's value that `excerpt` echoes. */
const EXCERPT_LENGTH = 100;

/**
 * What an error message may echo of a caller's value: the value itself when short, else its
 * first characters and `...`, so a message never carries a whole oversized input back.
 */
export function excerpt(value: string, limit = EXCERPT_LENGTH): string {
  return value.length > limit ? `${value.slice(0, limit)}...` : value;
}

/**
 * `text` with its `%XX` escapes decoded (as UTF-8) again and again until none is left, as a path
 * check must see it: `..%252f` is `../` to whatever decodes it twice. Malformed escapes stay as they are.
 */
export function fullyPercentDecoded(text: string): string {
  const decodeOnce = (value: string) => value.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => Buffer.from(run.replace(/%/g, ''), 'hex').toString('utf8'));
  let decoded = text;
  for (let next = decodeOnce(decoded); next !== decoded; next = decodeOnce(decoded)) decoded = next;
  return decoded;
}

// eslint-disable-next-line no-control-regex -- control characters are what this looks for
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/**
 * INVALID_ARGUMENT naming `field`, the first control character (U+0000 to U+001F, U+007F) of the
 * name `value` and its position: names are shown in lists, paths and logs, where a NUL, a line
 * break or an escape sequence would mislead, and PostgreSQL cannot store a NUL at all.
 */
export function checkNoControlCharacters(value: string, field: string): void {
  const at = value.search(CONTROL_CHARACTER);
  if (at === -1) return;
  const code = `U+${value.charCodeAt(at).toString(16).toUpperCase().padStart(4, '0')}`;
  throw new InvalidArgumentError(`contains the control character ${code} at position ${at}; a name may not contain control characters`, field);
}

/**
 * INVALID_ARGUMENT naming `field` and the position when the text `value` holds a NUL (U+0000),
 * which PostgreSQL cannot store, so that SQLite refuses it alike. Free text keeps its other
 * control characters (line breaks, tabs).
 */
export function checkNoNul(value: string, field: string): void {
  const at = value.indexOf('\0');
  if (at !== -1) throw new InvalidArgumentError(`contains a NUL character (U+0000) at position ${at}, which cannot be stored`, field);
}

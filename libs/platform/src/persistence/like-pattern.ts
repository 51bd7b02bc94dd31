type LikePart = { kind: 'many' } | { kind: 'one' } | { kind: 'char'; char: string };

/**
 * Reads a LIKE pattern as PostgreSQL does by default: `%` is any run of characters, `_` any one
 * character, and a backslash makes the next character literal. A backslash at the very end, an
 * error on PostgreSQL, stands for itself here.
 */
function likeParts(pattern: string): LikePart[] {
  const parts: LikePart[] = [];
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (ch === '\\' && i + 1 < chars.length) parts.push({ kind: 'char', char: chars[++i] });
    else if (ch === '%') parts.push({ kind: 'many' });
    else if (ch === '_') parts.push({ kind: 'one' });
    else parts.push({ kind: 'char', char: ch });
  }
  return parts;
}

/** The pattern for `LIKE`/`ILIKE ... ESCAPE '\'`, with every literal wildcard or backslash escaped. */
export function escapedLikePattern(pattern: string): string {
  return likeParts(pattern)
    .map((part) => (part.kind === 'many' ? '%' : part.kind === 'one' ? '_' : /[%_\\]/.test(part.char) ? `\\${part.char}` : part.char))
    .join('');
}

/**
 * The same pattern for SQLite's `GLOB`, which, unlike SQLite's `LIKE`, compares case-sensitively:
 * `*` and `?` for the wildcards, and GLOB's own special characters in brackets.
 */
export function globPattern(pattern: string): string {
  return likeParts(pattern)
    .map((part) => (part.kind === 'many' ? '*' : part.kind === 'one' ? '?' : /[*?[]/.test(part.char) ? `[${part.char}]` : part.char))
    .join('');
}

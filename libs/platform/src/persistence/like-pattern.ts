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

/**
 * A case-sensitive LIKE of `column` against a client's pattern on either database: PostgreSQL's
 * `LIKE ... ESCAPE '\'`, SQLite's `GLOB` (its LIKE ignores case). `bind` adds a parameter and
 * returns its placeholder.
 */
export function likeCondition(column: string, pattern: string, dialect: 'postgres' | 'sqlite', bind: (value: string) => string): string {
  return dialect === 'postgres' ? `${column} LIKE ${bind(escapedLikePattern(pattern))} ESCAPE '\\'` : `${column} GLOB ${bind(globPattern(pattern))}`;
}

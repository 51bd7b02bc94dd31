/**
 * A client's LIKE pattern (`%` any run, `_` any one character, `\` makes the next one literal)
 * as a case-sensitive match in each database: PostgreSQL's `LIKE ... ESCAPE '\'` takes it as it
 * is; SQLite's LIKE ignores case, so there it becomes a GLOB pattern.
 */
export function likeCondition(column: string, pattern: string, dialect: 'postgres' | 'sqlite', bind: (value: string) => string): string {
  // A trailing lone backslash escapes nothing: it is a literal one, as SQLite below takes it (PostgreSQL would refuse the pattern).
  if (dialect === 'postgres') return `${column} LIKE ${bind(/(^|[^\\])(\\\\)*\\$/.test(pattern) ? `${pattern}\\` : pattern)} ESCAPE '\\'`;
  let glob = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\' && i + 1 < pattern.length) glob += literal(pattern[++i]);
    else glob += ch === '%' ? '*' : ch === '_' ? '?' : literal(ch);
  }
  return `${column} GLOB ${bind(glob)}`;
}

function literal(ch: string): string {
  return '*?['.includes(ch) ? `[${ch}]` : ch;
}

/**
 * A client's LIKE pattern (`%` any run, `_` any one character, `\` makes the next one literal)
 * as a case-sensitive match in each database: PostgreSQL's `LIKE ... ESCAPE '\'` takes it as it
 * is; SQLite's LIKE ignores case, so there it becomes a GLOB pattern.
 */
export function likeCondition(column: string, pattern: string, dialect: 'postgres' | 'sqlite', bind: (value: string) => string): string {
  if (dialect === 'postgres') return `${column} LIKE ${bind(pattern)} ESCAPE '\\'`;
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

import { invalidParameter } from './mlflow-errors';

/** What a registry search filter asks for, in the terms the registry service searches by. */
export interface RegistryFilter {
  /** A LIKE pattern (`%`, `_`, `\` escapes) the registry matches names against; '' matches every name. */
  nameLike: string;
  /** Tags that must all be set with these values. */
  tags: Array<{ key: string; value: string }>;
  /** Run ids a version must come from (versions only); undefined when the filter names none, [] when none can match. */
  runIds?: string[];
  /** Name conditions the registry cannot evaluate (ILIKE, a second pattern), checked here on each name it returns. */
  nameChecks: NameCheck[];
}

/** Which of MLflow's registry searches a filter is for: they differ in the fields they know. */
export type RegistrySearchKind = 'registered models' | 'model versions';

const FIELDS: Readonly<Record<RegistrySearchKind, readonly string[]>> = {
  'registered models': ['name', 'tags.<key>'],
  'model versions': ['name', 'run_id', 'tags.<key>'],
};

const WORD = /[A-Za-z_][\w]*/y;
const KEY_WORD = /[\p{L}\p{N}_]+/uy;

/**
 * Reads the filter of `registered-models/search` or `model-versions/search`: comparisons joined by
 * AND, `name = 'x'`, `name LIKE 'x%'`, `name ILIKE '%x%'`, `tags.k = 'v'` and, for versions,
 * `run_id = '...'` and `run_id IN ('a', 'b')`. What the registry cannot search by is a 400
 * INVALID_PARAMETER_VALUE naming its position.
 */
export function parseRegistryFilter(text: string, kind: RegistrySearchKind): RegistryFilter {
  const filter: RegistryFilter = { nameLike: '', tags: [], nameChecks: [] };
  const reader = new FilterReader(text);
  reader.skipSpace();
  if (reader.atEnd()) return filter;
  for (;;) {
    readComparison(reader, kind, filter);
    reader.skipSpace();
    if (reader.atEnd()) return filter;
    const at = reader.pos;
    if (reader.word()?.toUpperCase() !== 'AND') reader.fail('AND', at);
    reader.skipSpace();
  }
}

function readComparison(reader: FilterReader, kind: RegistrySearchKind, filter: RegistryFilter): void {
  const start = reader.pos;
  const field = reader.identifier();
  const fields = FIELDS[kind];
  const known = field.tag !== undefined ? 'tags.<key>' : field.name;
  if (!fields.includes(known)) {
    throw invalidParameter(`filter: ${kind} cannot be searched by "${field.name}" (position ${start}); the fields are ${fields.join(', ')}`);
  }
  reader.skipSpace();
  const opAt = reader.pos;
  const op = reader.operator();
  reader.skipSpace();
  const allowed = field.tag !== undefined ? ['='] : field.name === 'name' ? ['=', 'LIKE', 'ILIKE'] : ['=', 'IN'];
  if (!allowed.includes(op)) {
    throw invalidParameter(`filter: ${op} at position ${opAt} is not supported on ${known}; use ${allowed.join(', ')}`);
  }
  if (op === 'IN') {
    const ids = reader.list();
    filter.runIds = filter.runIds ? filter.runIds.filter((id) => ids.includes(id)) : [...new Set(ids)];
    return;
  }
  const value = reader.string();
  if (field.tag !== undefined) filter.tags.push({ key: field.tag, value });
  else if (field.name === 'run_id') filter.runIds = filter.runIds ? filter.runIds.filter((id) => id === value) : [value];
  else if (op === 'ILIKE') filter.nameChecks.push(likeMatcher(value, true));
  else {
    const pattern = op === '=' ? likeLiteral(value) : value;
    // The registry takes one name pattern; any further one is checked here.
    if (filter.nameLike) filter.nameChecks.push(likeMatcher(pattern, false));
    else filter.nameLike = pattern;
  }
}

/** A LIKE pattern that matches `value` and nothing else. */
export function likeLiteral(value: string): string {
  return value.replace(/[\\%_]/g, '\\$&');
}

/** A name test: whether a whole name matches a LIKE pattern. */
export interface NameCheck {
  test(name: string): boolean;
}

/**
 * A LIKE pattern as a test over the whole name: `%` any run, `_` one character, `\` makes the next
 * one literal. Matched by the two-pointer wildcard walk, at most (name length x pattern length)
 * steps: a regular expression of many `%` backtracks exponentially on a name that fails, and a
 * crafted filter would stall the gateway.
 */
export function likeMatcher(pattern: string, ignoreCase: boolean): NameCheck {
  type Token = { kind: 'many' } | { kind: 'one' } | { kind: 'char'; char: string };
  const fold = (text: string) => (ignoreCase ? text.toLowerCase() : text);
  const tokens: Token[] = [];
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (ch === '\\' && i + 1 < chars.length) tokens.push({ kind: 'char', char: fold(chars[++i]) });
    else tokens.push(ch === '%' ? { kind: 'many' } : ch === '_' ? { kind: 'one' } : { kind: 'char', char: fold(ch) });
  }
  return {
    test(name: string): boolean {
      const text = Array.from(fold(name));
      let t = 0;
      let p = 0;
      let star = -1;
      let resume = 0;
      while (t < text.length) {
        const token = tokens[p];
        if (token && (token.kind === 'one' || (token.kind === 'char' && token.char === text[t]))) {
          t++;
          p++;
        } else if (token?.kind === 'many') {
          star = p++;
          resume = t;
        } else if (star >= 0) {
          p = star + 1;
          t = ++resume;
        } else {
          return false;
        }
      }
      while (tokens[p]?.kind === 'many') p++;
      return p === tokens.length;
    },
  };
}

/** A cursor over a filter; errors name the 0-based position, as tracking's search errors do. */
class FilterReader {
  pos = 0;

  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }

  fail(expected: string, at = this.pos): never {
    throw invalidParameter(`filter: expected ${expected} at position ${at}, found ${this.describe(at)}`);
  }

  word(): string | undefined {
    WORD.lastIndex = this.pos;
    const word = WORD.exec(this.text)?.[0];
    if (word !== undefined) this.pos += word.length;
    return word;
  }

  /** `name`, `run_id`, or `tags.<key>` (also `tag.`), the key bare, in backquotes or in double quotes. */
  identifier(): { name: string; tag?: string } {
    const start = this.pos;
    const name = this.word();
    if (name === undefined) this.fail('a field such as name or tags.<key>');
    if (this.text[this.pos] !== '.') return { name };
    this.pos++;
    if (name !== 'tags' && name !== 'tag') return { name: this.text.slice(start, this.pos) + (this.bareKey() ?? '') };
    const quote = this.text[this.pos];
    const key = quote === '`' || quote === '"' ? this.quoted() : this.bareKey();
    if (!key) this.fail('a tag key (quote it with backquotes if it has special characters)');
    return { name: `${name}.${key}`, tag: key };
  }

  /** `=`, `!=`, `<`, `>`... or LIKE, ILIKE, IN, NOT IN: whatever stands here, for the caller to accept or refuse. */
  operator(): string {
    const symbol = /[<>=!]+/y;
    symbol.lastIndex = this.pos;
    const found = symbol.exec(this.text)?.[0];
    if (found !== undefined) {
      this.pos += found.length;
      return found;
    }
    const at = this.pos;
    const word = this.word()?.toUpperCase();
    if (word === 'NOT') {
      this.skipSpace();
      return `NOT ${this.word()?.toUpperCase() ?? ''}`.trim();
    }
    if (word === undefined) this.fail('a comparison (=, LIKE, ILIKE or IN)', at);
    return word;
  }

  /** A string in single or double quotes. */
  string(): string {
    const quote = this.text[this.pos];
    if (quote !== "'" && quote !== '"') this.fail('a quoted string');
    return this.quoted();
  }

  /** `('a', 'b', ...)`. */
  list(): string[] {
    if (this.text[this.pos] !== '(') this.fail('a parenthesised list of quoted strings');
    this.pos++;
    const values: string[] = [];
    for (;;) {
      this.skipSpace();
      values.push(this.string());
      this.skipSpace();
      const next = this.text[this.pos++];
      if (next === ')') return values;
      if (next !== ',') this.fail('"," or ")"', this.pos - 1);
    }
  }

  private bareKey(): string | undefined {
    let key = '';
    do {
      if (key) key += '.';
      KEY_WORD.lastIndex = this.pos + (key ? 1 : 0);
      const part = KEY_WORD.exec(this.text)?.[0];
      if (part === undefined) return key ? this.fail('a key', this.pos + 1) : undefined;
      this.pos += part.length + (key ? 1 : 0);
      key += part;
    } while (this.text[this.pos] === '.');
    return key;
  }

  /** A quoted text: the quote doubled or after a backslash stands for itself; other backslashes are kept (LIKE escapes). */
  private quoted(): string {
    const start = this.pos;
    const quote = this.text[start];
    let value = '';
    for (let i = start + 1; i < this.text.length; i++) {
      const ch = this.text[i];
      if ((ch === '\\' || ch === quote) && this.text[i + 1] === quote) {
        value += quote;
        i++;
      } else if (ch === quote) {
        this.pos = i + 1;
        return value;
      } else {
        value += ch;
      }
    }
    throw invalidParameter(`filter: unterminated string starting at position ${start}; expected a closing quote (${quote})`);
  }

  private describe(at: number): string {
    if (at >= this.text.length) return 'end of input';
    return `"${/^(\w+|\S)/.exec(this.text.slice(at))?.[0] ?? this.text[at]}"`;
  }
}

/**
 * Checks `order_by` against the one order the registry has for this search, `allowed` (each
 * entry a field and direction, in order); anything else is a 400 saying what the order is.
 */
export function checkOrderBy(orderBy: readonly string[], allowed: readonly string[], kind: RegistrySearchKind): void {
  let next = 0;
  for (const entry of orderBy) {
    const [field, direction = 'ASC', ...rest] = entry.trim().split(/\s+/);
    const wanted = allowed.findIndex((clause, index) => index >= next && clause === `${field} ${direction.toUpperCase()}`);
    if (rest.length > 0 || wanted < 0) {
      throw invalidParameter(`order_by: "${entry}" is not supported; ${kind} come in one order, ${allowed.join(', then ')}`);
    }
    next = wanted + 1;
  }
}

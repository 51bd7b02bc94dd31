import { FilterSyntaxError } from './filter-syntax.error';
import {
  DATASET_KEYS,
  RUN_VOCABULARY,
  type RunAttributeRule,
  type SearchEntity,
  type SearchVocabulary,
} from './search-grammar';

const WORD = /[\p{L}\p{N}_]+/uy;
const WORD_START = /[\p{L}_]/u;
const WORD_CHAR = /[\p{L}\p{N}_]/u;
const OPERATOR_CHARS = /[<>=!]+/y;
const NUMBER = /-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const QUOTES = new Set(["'", '"', '`']);
// What to show as "found" when a number-like token stands where it should not (`1.5`, `1e3x`).
const NUMBER_LIKE = /-?\.?\d(?:[eE][+-]|[\p{L}\p{N}_.])*/uy;

// The spellings worth suggesting; the capitalised and spaced aliases are accepted but not listed.
function attributeList(vocabulary: SearchVocabulary, purpose: 'filter' | 'order_by'): string {
  return Object.entries(vocabulary.attributes)
    .filter(([name, rule]) => /^[a-z_]+$/.test(name) && (purpose === 'filter' ? rule.filterable !== false : rule.orderable))
    .map(([name]) => name)
    .join(', ');
}

/** An identifier such as `metrics.acc`, resolved against the grammar. */
export interface ResolvedIdentifier {
  entity: SearchEntity;
  /** The key with quotes removed and attribute aliases rewritten (`created` -> `start_time`). */
  key: string;
  /** Set for attributes. */
  attribute?: RunAttributeRule;
  start: number;
}

/**
 * A cursor over one filter or order_by clause. The parsers ask it for the token they expect
 * next, because what a token is depends on where it stands (a double-quoted text is a key
 * before the operator and a string value after it).
 */
export class Scanner {
  pos = 0;

  constructor(
    readonly text: string,
    private readonly label: 'filter' | 'order_by',
    readonly vocabulary: SearchVocabulary = RUN_VOCABULARY,
  ) {}

  /** Refuses a text with a NUL, which PostgreSQL cannot compare and SQLite would quietly match nothing with. */
  refuseNul(): void {
    const at = this.text.indexOf('\0');
    if (at !== -1) this.error(`contains a NUL character (U+0000) at position ${at}`, at, 'a character other than NUL');
  }

  skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  peekWord(): string | undefined {
    WORD.lastIndex = this.pos;
    return WORD.exec(this.text)?.[0];
  }

  /** Throws `<label>: expected <expected> at position <at>, found <what is there>`. */
  fail(expected: string, at = this.pos): never {
    throw new FilterSyntaxError(
      `${this.label}: expected ${expected} at position ${at}, found ${this.describe(at)}`,
      at,
      expected,
    );
  }

  /** Throws `<label>: <problem>` for errors that need more than "expected X, found Y". */
  error(problem: string, at: number, expected: string): never {
    throw new FilterSyntaxError(`${this.label}: ${problem}`, at, expected);
  }

  readIdentifier(purpose: 'filter' | 'order_by'): ResolvedIdentifier {
    const start = this.pos;
    const prefixes = this.vocabulary.prefixes;
    const first = this.readSegment(`an identifier such as ${this.vocabulary.exampleIdentifier}`);
    if (this.text[this.pos] !== '.') {
      if (!first.quoted && Object.hasOwn(prefixes, first.text)) {
        this.skipSpace();
        this.fail(`"." and a key after "${first.text}"`);
      }
      // MLflow reads an identifier without a prefix as an attribute (`status = 'FAILED'`).
      return this.resolveAttribute(first.text, start, start, purpose);
    }
    // MLflow strips backquotes from the prefix but not double quotes.
    if (first.quote === '"') {
      this.error(
        `a double-quoted entity prefix is not accepted at position ${start}; expected ${first.text} or \`${first.text}\``,
        start,
        'an entity prefix',
      );
    }
    const entity = Object.hasOwn(prefixes, first.text) ? prefixes[first.text] : undefined;
    if (entity === undefined) {
      this.error(
        `unknown entity "${first.text}" at position ${start}; expected one of ${Object.keys(prefixes).join(', ')}`,
        start,
        'an entity prefix',
      );
    }
    this.pos++;
    const keyStart = this.pos;
    const key = this.readKey();
    if (entity === 'attribute') return this.resolveAttribute(key, start, keyStart, purpose);
    if (entity === 'dataset' && !DATASET_KEYS.includes(key)) {
      this.error(
        `unknown dataset key "${key}" at position ${keyStart}; expected one of ${DATASET_KEYS.join(', ')}`,
        keyStart,
        'a dataset key',
      );
    }
    return { entity, key, start };
  }

  /** A quoted string value. Fails with `a quoted string <context>` if there is none. */
  readString(context: string): string {
    const quote = this.text[this.pos];
    if (quote !== "'" && quote !== '"') this.fail(`a quoted string ${context}`);
    return this.readQuoted();
  }

  /** A number literal: `12`, `-0.5`, `.5`, `1e-3`. Returns its text, or undefined if none is here. */
  readNumber(): string | undefined {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    if (!match) return undefined;
    const next = this.text[this.pos + match[0].length];
    if (next !== undefined && (WORD_CHAR.test(next) || next === '.')) return undefined;
    this.pos += match[0].length;
    return match[0];
  }

  /** `=`, `!=`, `<`, `<=`, `>`, `>=` if one stands here; undefined otherwise. */
  readSymbolOperator(): string | undefined {
    OPERATOR_CHARS.lastIndex = this.pos;
    const run = OPERATOR_CHARS.exec(this.text)?.[0];
    if (run === undefined || !['=', '!=', '<', '<=', '>', '>='].includes(run)) return undefined;
    this.pos += run.length;
    return run;
  }

  private resolveAttribute(
    name: string,
    start: number,
    keyStart: number,
    purpose: 'filter' | 'order_by',
  ): ResolvedIdentifier {
    const attributes = this.vocabulary.attributes;
    const attribute = Object.hasOwn(attributes, name) ? attributes[name] : undefined;
    const usable = purpose === 'order_by' ? attribute?.orderable : attribute !== undefined && attribute.filterable !== false;
    if (attribute === undefined || !usable) {
      this.error(
        `unknown attribute "${name}" at position ${keyStart}; expected one of ${attributeList(this.vocabulary, purpose)}`,
        keyStart,
        'an attribute',
      );
    }
    return { entity: 'attribute', key: attribute.key, attribute, start };
  }

  private readKey(): string {
    const start = this.pos;
    const ch = this.text[this.pos];
    if (ch === '`' || ch === '"') {
      const key = this.readQuoted();
      if (key === '') this.fail('a non-empty key', start);
      return key;
    }
    // Unquoted keys may contain dots (`metrics.loss.val`); MLflow splits at the first dot only.
    WORD.lastIndex = this.pos;
    let key = WORD.exec(this.text)?.[0];
    if (key === undefined) this.fail('a key (quote it with backquotes if it has special characters)');
    this.pos += key.length;
    while (this.text[this.pos] === '.') {
      WORD.lastIndex = this.pos + 1;
      const part = WORD.exec(this.text)?.[0];
      if (part === undefined) this.fail('a key (quote it with backquotes if it has special characters)', this.pos + 1);
      key += `.${part}`;
      this.pos += part.length + 1;
    }
    return key;
  }

  private readSegment(expected: string): { text: string; quoted: boolean; quote?: string } {
    const ch = this.text[this.pos];
    if (ch === '`' || ch === '"') return { text: this.readQuoted(), quoted: true, quote: ch };
    if (ch === undefined || !WORD_START.test(ch)) this.fail(expected);
    const text = this.peekWord() ?? '';
    if (/^(and|or)$/i.test(text) && this.text[this.pos + text.length] !== '.') this.fail(expected);
    this.pos += text.length;
    return { text, quoted: false };
  }

  /**
   * Reads a text in ', " or ` quotes. Inside, the enclosing quote is written twice or after a
   * backslash; a backslash before any quote or a backslash stands for that character; any
   * other backslash is kept, so `'50\%'` reaches LIKE as `50\%`.
   */
  private readQuoted(): string {
    const start = this.pos;
    const quote = this.text[start];
    let value = '';
    let i = start + 1;
    while (i < this.text.length) {
      const ch = this.text[i];
      if (ch === '\\' && i + 1 < this.text.length && (QUOTES.has(this.text[i + 1]) || this.text[i + 1] === '\\')) {
        value += this.text[i + 1];
        i += 2;
      } else if (ch === quote && this.text[i + 1] === quote) {
        value += quote;
        i += 2;
      } else if (ch === quote) {
        this.pos = i + 1;
        return value;
      } else {
        value += ch;
        i++;
      }
    }
    this.error(
      `unterminated ${quote === '`' ? 'quoted key' : 'string'} starting at position ${start}; expected a closing quote (${quote})`,
      start,
      `a closing quote (${quote})`,
    );
  }

  private describe(at: number): string {
    if (at >= this.text.length) return 'end of input';
    const ch = this.text[at];
    let token: string;
    NUMBER_LIKE.lastIndex = at;
    const numberLike = NUMBER_LIKE.exec(this.text)?.[0];
    if (QUOTES.has(ch)) {
      const close = this.text.indexOf(ch, at + 1);
      token = close === -1 ? this.text.slice(at) : this.text.slice(at, close + 1);
    } else if (numberLike !== undefined) {
      token = numberLike;
    } else if (WORD_CHAR.test(ch)) {
      WORD.lastIndex = at;
      token = WORD.exec(this.text)?.[0] ?? ch;
    } else {
      OPERATOR_CHARS.lastIndex = at;
      token = OPERATOR_CHARS.exec(this.text)?.[0] ?? ch;
    }
    return `"${token}"`;
  }
}

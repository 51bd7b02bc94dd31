import { Scanner, type ResolvedIdentifier } from './scanner';
import { ENTITY_OPERATORS, type ComparisonOperator, type SearchEntity } from './search-grammar';
import { SEARCH_LIMITS } from './search-limits';

/**
 * One condition of a run search. `value` is a number for metrics and the numeric attributes
 * (`start_time`, `end_time`), a list for IN / NOT IN, and a string otherwise. Quotes are removed
 * and escapes resolved; LIKE wildcards (`%`, `_`) are left as written.
 */
export interface RunComparison {
  entity: SearchEntity;
  key: string;
  op: ComparisonOperator;
  value: string | number | string[];
}

/** The comparisons of a filter, all of which must hold (MLflow has AND only). */
export type RunFilter = RunComparison[];

/**
 * Parses an MLflow `runs/search` filter such as `metrics.acc > 0.9 and params.lr = '0.01'`.
 * An empty or blank filter has no comparisons. Throws FilterSyntaxError naming the position.
 */
export function parseRunFilter(text: string): RunFilter {
  return parseConjunction(new Scanner(text, 'filter'));
}

/**
 * Reads comparisons joined by AND up to the end of the scanner's text, by the scanner's
 * vocabulary (the run and experiment grammars share this), within SEARCH_LIMITS.
 */
export function parseConjunction(scanner: Scanner): RunComparison[] {
  const { filterLength, comparisons: most } = SEARCH_LIMITS;
  if (scanner.text.length > filterLength) {
    scanner.error(`is ${scanner.text.length} characters; the limit is ${filterLength}`, filterLength, 'a shorter filter');
  }
  scanner.refuseNul();
  const comparisons: RunComparison[] = [];
  scanner.skipSpace();
  if (scanner.atEnd()) return comparisons;
  for (;;) {
    if (comparisons.length === most) {
      scanner.error(`has more than ${most} comparisons (comparison ${most + 1} starts at position ${scanner.pos}); the limit is ${most}`, scanner.pos, 'the end of the filter');
    }
    comparisons.push(parseComparison(scanner));
    scanner.skipSpace();
    if (scanner.atEnd()) return comparisons;
    const word = scanner.peekWord()?.toUpperCase();
    if (word === 'OR') {
      scanner.error(
        `OR is not supported (position ${scanner.pos}); combine conditions with AND`,
        scanner.pos,
        'AND',
      );
    }
    if (word !== 'AND') scanner.fail('AND or the end of the filter');
    scanner.pos += 3;
    scanner.skipSpace();
  }
}

function parseComparison(scanner: Scanner): RunComparison {
  const id = scanner.readIdentifier('filter');
  scanner.skipSpace();
  const opStart = scanner.pos;
  const op = readOperator(scanner);
  const allowed = id.attribute?.operators ?? ENTITY_OPERATORS[id.entity as Exclude<SearchEntity, 'attribute'>];
  if (!allowed.includes(op)) {
    scanner.error(
      `operator ${op} is not allowed for ${subject(id)} at position ${opStart}; expected one of ${allowed.join(', ')}`,
      opStart,
      'a comparison operator',
    );
  }
  scanner.skipSpace();
  return { entity: id.entity, key: id.key, op, value: readValue(scanner, id, op) };
}

function readOperator(scanner: Scanner): ComparisonOperator {
  const symbol = scanner.readSymbolOperator();
  if (symbol !== undefined) return symbol as ComparisonOperator;
  const word = scanner.peekWord()?.toUpperCase();
  if (word === 'LIKE' || word === 'ILIKE' || word === 'IN') {
    scanner.pos += word.length;
    return word;
  }
  if (word === 'NOT') {
    scanner.pos += 3;
    scanner.skipSpace();
    if (scanner.peekWord()?.toUpperCase() !== 'IN') scanner.fail('IN after NOT');
    scanner.pos += 2;
    return 'NOT IN';
  }
  return scanner.fail('a comparison operator');
}

function readValue(scanner: Scanner, id: ResolvedIdentifier, op: ComparisonOperator): string | number | string[] {
  if (op === 'IN' || op === 'NOT IN') return readList(scanner, id);
  if (id.entity === 'metric') {
    const start = scanner.pos;
    const literal = scanner.readNumber();
    if (literal === undefined) scanner.fail(`a number for ${subject(id)}`);
    return toNumber(scanner, literal, start, `a number for ${subject(id)}`, false);
  }
  if (id.attribute?.type === 'number') {
    const start = scanner.pos;
    const literal = scanner.readNumber();
    const expected = `an integer (milliseconds since the epoch) for ${subject(id)}`;
    if (literal === undefined || !/^-?\d+$/.test(literal)) scanner.fail(expected, start);
    return toNumber(scanner, literal, start, expected, true);
  }
  return scanner.readString(`for ${subject(id)}`);
}

function readList(scanner: Scanner, id: ResolvedIdentifier): string[] {
  if (scanner.text[scanner.pos] !== '(') scanner.fail(`"(" and a list of quoted strings for ${subject(id)}`);
  const open = scanner.pos;
  scanner.pos++;
  scanner.skipSpace();
  if (scanner.text[scanner.pos] === ')') {
    scanner.error(
      `IN list is empty at position ${open}; expected at least one quoted string`,
      open,
      'a quoted string',
    );
  }
  const values: string[] = [];
  const most = SEARCH_LIMITS.inListValues;
  for (;;) {
    if (values.length === most) scanner.error(`the IN list at position ${open} has more than ${most} values; the limit is ${most}`, scanner.pos, '")"');
    values.push(scanner.readString('in the IN list'));
    scanner.skipSpace();
    const ch = scanner.text[scanner.pos];
    if (ch === ')') {
      scanner.pos++;
      return values;
    }
    if (ch !== ',') scanner.fail('"," or ")"');
    scanner.pos++;
    scanner.skipSpace();
  }
}

function toNumber(scanner: Scanner, literal: string, start: number, expected: string, integer: boolean): number {
  const value = Number(literal);
  if (integer ? !Number.isSafeInteger(value) : !Number.isFinite(value)) {
    scanner.fail(expected, start);
  }
  return value;
}

function subject(id: ResolvedIdentifier): string {
  return id.entity === 'attribute' ? `attribute "${id.key}"` : `${id.entity} "${id.key}"`;
}

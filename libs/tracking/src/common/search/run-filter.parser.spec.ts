import { FilterSyntaxError } from './filter-syntax.error';
import { parseRunFilter, type RunComparison } from './run-filter.parser';
import type { ComparisonOperator } from './search-grammar';

function errorOf(text: string): FilterSyntaxError {
  try {
    parseRunFilter(text);
  } catch (error) {
    if (error instanceof FilterSyntaxError) return error;
    throw error;
  }
  throw new Error(`parseRunFilter accepted ${JSON.stringify(text)}`);
}

function expectError(text: string, message: string, position: number, expected?: string): void {
  const error = errorOf(text);
  expect(error.message).toBe(message);
  expect(error.position).toBe(position);
  if (expected !== undefined) expect(error.expected).toBe(expected);
}

const ALL_OPERATORS: ComparisonOperator[] = ['=', '!=', '<', '<=', '>', '>=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'];

function valueFor(op: ComparisonOperator, kind: 'string' | 'number'): string {
  if (op === 'IN' || op === 'NOT IN') return "('a', 'b')";
  return kind === 'number' ? '5' : "'v'";
}

describe('parseRunFilter', () => {
  describe('empty filters', () => {
    it.each(['', '   ', '\t\n  '])('reads %j as no comparisons', (text) => {
      expect(parseRunFilter(text)).toEqual([]);
    });
  });

  describe('operators per entity', () => {
    const cases: Array<{ identifier: string; entity: string; key: string; kind: 'string' | 'number'; allowed: ComparisonOperator[] }> = [
      { identifier: 'metrics.acc', entity: 'metric', key: 'acc', kind: 'number', allowed: ['=', '!=', '<', '<=', '>', '>='] },
      { identifier: 'params.lr', entity: 'param', key: 'lr', kind: 'string', allowed: ['=', '!=', 'LIKE', 'ILIKE'] },
      { identifier: 'tags.team', entity: 'tag', key: 'team', kind: 'string', allowed: ['=', '!=', 'LIKE', 'ILIKE'] },
      { identifier: 'datasets.name', entity: 'dataset', key: 'name', kind: 'string', allowed: ALL_OPERATORS.filter((op) => !['<', '<=', '>', '>='].includes(op)) },
      { identifier: 'attributes.run_id', entity: 'attribute', key: 'run_id', kind: 'string', allowed: ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'] },
      { identifier: 'attributes.status', entity: 'attribute', key: 'status', kind: 'string', allowed: ['=', '!=', 'LIKE', 'ILIKE'] },
      { identifier: 'attributes.run_name', entity: 'attribute', key: 'run_name', kind: 'string', allowed: ['=', '!=', 'LIKE', 'ILIKE'] },
      { identifier: 'attributes.user_id', entity: 'attribute', key: 'user_id', kind: 'string', allowed: ['=', '!=', 'LIKE', 'ILIKE'] },
      { identifier: 'attributes.artifact_uri', entity: 'attribute', key: 'artifact_uri', kind: 'string', allowed: ['=', '!=', 'LIKE', 'ILIKE'] },
      { identifier: 'attributes.start_time', entity: 'attribute', key: 'start_time', kind: 'number', allowed: ['=', '!=', '<', '<=', '>', '>='] },
      { identifier: 'attributes.end_time', entity: 'attribute', key: 'end_time', kind: 'number', allowed: ['=', '!=', '<', '<=', '>', '>='] },
    ];

    for (const { identifier, entity, key, kind, allowed } of cases) {
      for (const op of ALL_OPERATORS) {
        const text = `${identifier} ${op} ${valueFor(op, kind)}`;
        if (allowed.includes(op)) {
          it(`accepts ${text}`, () => {
            const value = op === 'IN' || op === 'NOT IN' ? ['a', 'b'] : kind === 'number' ? 5 : 'v';
            expect(parseRunFilter(text)).toEqual([{ entity, key, op, value }]);
          });
        } else {
          it(`refuses ${op} for ${identifier}, listing the allowed operators`, () => {
            const subject = entity === 'attribute' ? `attribute "${key}"` : `${entity} "${key}"`;
            expectError(
              text,
              `filter: operator ${op} is not allowed for ${subject} at position ${identifier.length + 1}; expected one of ${allowed.join(', ')}`,
              identifier.length + 1,
              'a comparison operator',
            );
          });
        }
      }
    }

    it('reads LIKE, ILIKE, IN and NOT IN in any case, and NOT IN across extra whitespace', () => {
      expect(parseRunFilter("params.a like 'x%' and tags.b iLike 'y' and run_id in ('r') and run_id not   In ('s')")).toEqual([
        { entity: 'param', key: 'a', op: 'LIKE', value: 'x%' },
        { entity: 'tag', key: 'b', op: 'ILIKE', value: 'y' },
        { entity: 'attribute', key: 'run_id', op: 'IN', value: ['r'] },
        { entity: 'attribute', key: 'run_id', op: 'NOT IN', value: ['s'] },
      ]);
    });

    it('reads operators written without surrounding spaces', () => {
      expect(parseRunFilter("metrics.a>=1 and metrics.b!=2 and params.c='x'")).toEqual([
        { entity: 'metric', key: 'a', op: '>=', value: 1 },
        { entity: 'metric', key: 'b', op: '!=', value: 2 },
        { entity: 'param', key: 'c', op: '=', value: 'x' },
      ]);
    });

    it.each([
      ['metrics.acc == 1', '"=="'],
      ['metrics.acc <> 1', '"<>"'],
      ['metrics.acc => 1', '"=>"'],
      ['metrics.acc BETWEEN 1 AND 2', '"BETWEEN"'],
      ["params.a CONTAINS 'x'", '"CONTAINS"'],
    ])('refuses %j as an unknown operator', (text, found) => {
      const position = text.indexOf(' ') + 1;
      expectError(
        text,
        `filter: expected a comparison operator at position ${position}, found ${found}`,
        position,
        'a comparison operator',
      );
    });

    it('refuses NOT without IN', () => {
      expectError("params.a NOT LIKE 'x'", 'filter: expected IN after NOT at position 13, found "LIKE"', 13, 'IN after NOT');
    });
  });

  describe('identifiers', () => {
    it.each([
      ['attributes.status', 'attribute', 'status'],
      ['attribute.status', 'attribute', 'status'],
      ['attr.status', 'attribute', 'status'],
      ['run.status', 'attribute', 'status'],
      ['status', 'attribute', 'status'],
      ['params.lr', 'param', 'lr'],
      ['param.lr', 'param', 'lr'],
      ['parameters.lr', 'param', 'lr'],
      ['parameter.lr', 'param', 'lr'],
      ['tags.lr', 'tag', 'lr'],
      ['tag.lr', 'tag', 'lr'],
      ['datasets.digest', 'dataset', 'digest'],
      ['dataset.context', 'dataset', 'context'],
      ['`params`.lr', 'param', 'lr'],
    ])("reads %s as %s %s", (identifier, entity, key) => {
      expect(parseRunFilter(`${identifier} = 'x'`)).toEqual([{ entity, key, op: '=', value: 'x' }]);
    });

    it.each([
      ['metrics.acc', 'acc'],
      ['metric.acc', 'acc'],
      ['metrics.loss.val', 'loss.val'],
      ['metrics.`f1 score`', 'f1 score'],
      ['metrics."f1 score"', 'f1 score'],
      ['metrics.`train/loss-1`', 'train/loss-1'],
      ['metrics.`a``b`', 'a`b'],
      ['metrics.1st', '1st'],
      ['metrics.точность', 'точность'],
    ])('reads the metric key in %s as %j', (identifier, key) => {
      expect(parseRunFilter(`${identifier} > 0`)).toEqual([{ entity: 'metric', key, op: '>', value: 0 }]);
    });

    it('rewrites the attribute aliases created and "run name" to start_time and run_name', () => {
      expect(
        parseRunFilter("attributes.created > 1 and Created < 2 and attributes.`run name` = 'a' and \"Run Name\" = 'b' and `Run name` = 'c'"),
      ).toEqual([
        { entity: 'attribute', key: 'start_time', op: '>', value: 1 },
        { entity: 'attribute', key: 'start_time', op: '<', value: 2 },
        { entity: 'attribute', key: 'run_name', op: '=', value: 'a' },
        { entity: 'attribute', key: 'run_name', op: '=', value: 'b' },
        { entity: 'attribute', key: 'run_name', op: '=', value: 'c' },
      ]);
    });

    it('refuses an unknown entity prefix, listing the accepted ones', () => {
      expectError(
        "foo.bar = 'x'",
        'filter: unknown entity "foo" at position 0; expected one of attributes, attribute, attr, run, metrics, metric, params, param, parameters, parameter, tags, tag, datasets, dataset',
        0,
        'an entity prefix',
      );
    });

    it('treats entity prefixes as case-sensitive, as MLflow does', () => {
      expect(errorOf('METRICS.acc > 1').message).toMatch(/^filter: unknown entity "METRICS" at position 0;/);
    });

    it('refuses a double-quoted entity prefix, as MLflow does', () => {
      expectError(
        '"metrics".acc > 1',
        'filter: a double-quoted entity prefix is not accepted at position 0; expected metrics or `metrics`',
        0,
        'an entity prefix',
      );
    });

    it('refuses names of Object.prototype as entity prefixes and attributes', () => {
      expect(errorOf('constructor.x > 1').message).toMatch(/^filter: unknown entity "constructor" at position 0;/);
      expect(errorOf('attributes.toString > 1').message).toMatch(/^filter: unknown attribute "toString" at position 11;/);
    });

    it('refuses an unknown attribute, naming its position', () => {
      expectError(
        "metrics.acc > 1 and attributes.lifecycle_stage = 'active'",
        'filter: unknown attribute "lifecycle_stage" at position 31; expected one of run_id, run_name, status, user_id, artifact_uri, start_time, end_time, created',
        31,
        'an attribute',
      );
    });

    it('refuses an unknown bare attribute', () => {
      expect(errorOf("experiment_id = '1'").message).toMatch(/^filter: unknown attribute "experiment_id" at position 0;/);
    });

    it('refuses an unknown dataset key', () => {
      expectError(
        "datasets.source = 'x'",
        'filter: unknown dataset key "source" at position 9; expected one of name, digest, context',
        9,
        'a dataset key',
      );
    });

    it('refuses an entity prefix without a dot and key', () => {
      expectError('metrics > 1', 'filter: expected "." and a key after "metrics" at position 8, found ">"', 8);
    });

    it('refuses a dot with no key after it', () => {
      expectError(
        'metrics. > 1',
        'filter: expected a key (quote it with backquotes if it has special characters) at position 8, found " "',
        8,
      );
    });

    it('refuses an unquoted key with special characters, pointing at the character', () => {
      expectError('metrics.my-metric > 1', 'filter: expected a comparison operator at position 10, found "-"', 10);
    });

    it('refuses an empty quoted key', () => {
      expectError('metrics.`` > 1', 'filter: expected a non-empty key at position 8, found "``"', 8);
    });

    it('refuses an unterminated quoted key', () => {
      expectError(
        'metrics.`f1 score > 1',
        'filter: unterminated quoted key starting at position 8; expected a closing quote (`)',
        8,
        'a closing quote (`)',
      );
    });

    it.each([
      ['(metrics.a > 1)', '"("'],
      ['1 > metrics.a', '"1"'],
      ["'x' = params.a", "\"'x'\""],
    ])('refuses %j, which does not start with an identifier', (text, found) => {
      expectError(text, `filter: expected an identifier such as metrics.acc at position 0, found ${found}`, 0);
    });
  });

  describe('string values', () => {
    it.each([
      ["'0.01'", '0.01'],
      ['"0.01"', '0.01'],
      ["''", ''],
      ["'it''s'", "it's"],
      ["'it\\'s'", "it's"],
      ['"say ""hi"""', 'say "hi"'],
      ['"say \\"hi\\""', 'say "hi"'],
      ["'a\"b'", 'a"b'],
      ['"a\'b"', "a'b"],
      ["'back\\\\slash'", 'back\\slash'],
      ["'ends with \\\\'", 'ends with \\'],
      ["'50\\%'", '50\\%'],
      ["'tab\\there'", 'tab\\there'],
      ["'  spaces  '", '  spaces  '],
      ["'AND OR = ( )'", 'AND OR = ( )'],
      ["'ünïcødé'", 'ünïcødé'],
    ])('reads %s as %j', (literal, value) => {
      expect(parseRunFilter(`params.p = ${literal}`)).toEqual([{ entity: 'param', key: 'p', op: '=', value }]);
    });

    it.each([
      ["params.p = 'abc", 11, "'"],
      ['params.p = "abc', 11, '"'],
      ["params.p = 'abc\\'", 11, "'"],
      ["params.p = 'a' and tags.t = 'b", 28, "'"],
    ])('refuses the unterminated string in %j', (text, position, quote) => {
      expectError(
        text,
        `filter: unterminated string starting at position ${position}; expected a closing quote (${quote})`,
        position,
        `a closing quote (${quote})`,
      );
    });

    it.each([
      ['params.lr = 0.01', 'param "lr"', 12, '"0.01"'],
      ['tags.team = ml', 'tag "team"', 12, '"ml"'],
      ['attributes.status = FAILED', 'attribute "status"', 20, '"FAILED"'],
      ['datasets.name = `x`', 'dataset "name"', 16, '"`x`"'],
      ['params.lr =', 'param "lr"', 11, 'end of input'],
    ])('refuses an unquoted value in %j', (text, subject, position, found) => {
      expectError(text, `filter: expected a quoted string for ${subject} at position ${position}, found ${found}`, position);
    });
  });

  describe('numeric values', () => {
    it.each([
      ['0', 0],
      ['42', 42],
      ['-3', -3],
      ['0.95', 0.95],
      ['.5', 0.5],
      ['5.', 5],
      ['-0.25', -0.25],
      ['1e3', 1000],
      ['1E3', 1000],
      ['2.5e-3', 0.0025],
      ['-1.5E+2', -150],
    ])('reads the metric value %s as %d', (literal, value) => {
      expect(parseRunFilter(`metrics.m >= ${literal}`)).toEqual([{ entity: 'metric', key: 'm', op: '>=', value }]);
    });

    it.each([
      ["metrics.acc > 'high'", 14, "\"'high'\""],
      ["metrics.acc > '0.9'", 14, "\"'0.9'\""],
      ['metrics.acc > high', 14, '"high"'],
      ['metrics.acc > 1abc', 14, '"1abc"'],
      ['metrics.acc > 1.2.3', 14, '"1.2.3"'],
      ['metrics.acc > NaN', 14, '"NaN"'],
      ['metrics.acc > - 1', 14, '"-"'],
      ['metrics.acc > +1', 14, '"+"'],
      ['metrics.acc > 1e999', 14, '"1e999"'],
      ['metrics.acc >', 13, 'end of input'],
    ])('refuses a non-numeric metric value in %j', (text, position, found) => {
      expectError(
        text,
        `filter: expected a number for metric "acc" at position ${position}, found ${found}`,
        position,
        'a number for metric "acc"',
      );
    });

    it('reads numeric attributes as integers', () => {
      expect(parseRunFilter('attributes.start_time >= 1700000000000 and attributes.end_time < -1')).toEqual([
        { entity: 'attribute', key: 'start_time', op: '>=', value: 1700000000000 },
        { entity: 'attribute', key: 'end_time', op: '<', value: -1 },
      ]);
    });

    it.each([
      ['attributes.start_time > 1.5', 24, '"1.5"'],
      ['attributes.start_time > 1e3', 24, '"1e3"'],
      ["attributes.start_time > '1700000000000'", 24, "\"'1700000000000'\""],
      ['attributes.start_time > 99999999999999999999', 24, '"99999999999999999999"'],
    ])('refuses a non-integer value for a time attribute in %j', (text, position, found) => {
      expectError(
        text,
        `filter: expected an integer (milliseconds since the epoch) for attribute "start_time" at position ${position}, found ${found}`,
        position,
      );
    });
  });

  describe('IN lists', () => {
    it('reads a list of single- and double-quoted strings with any spacing', () => {
      expect(parseRunFilter(`run_id IN ( 'a' ,"b",'c''d' )`)).toEqual([
        { entity: 'attribute', key: 'run_id', op: 'IN', value: ['a', 'b', "c'd"] },
      ]);
    });

    it('reads IN lists for dataset keys', () => {
      expect(parseRunFilter("datasets.digest NOT IN ('abc123')")).toEqual([
        { entity: 'dataset', key: 'digest', op: 'NOT IN', value: ['abc123'] },
      ]);
    });

    it('refuses an empty IN list', () => {
      expectError(
        'attributes.run_id IN ( )',
        'filter: IN list is empty at position 21; expected at least one quoted string',
        21,
        'a quoted string',
      );
    });

    it.each([
      ["run_id IN 'a'", 10, '"(" and a list of quoted strings for attribute "run_id"', "\"'a'\""],
      ['run_id IN (1, 2)', 11, 'a quoted string in the IN list', '"1"'],
      ["run_id IN ('a',)", 15, 'a quoted string in the IN list', '")"'],
      ["run_id IN ('a' 'b')", 15, '"," or ")"', "\"'b'\""],
      ["run_id IN ('a'", 14, '"," or ")"', 'end of input'],
    ])('refuses the malformed list in %j', (text, position, expected, found) => {
      expectError(text, `filter: expected ${expected} at position ${position}, found ${found}`, position, expected);
    });
  });

  describe('AND, OR and whitespace', () => {
    it.each(['AND', 'and', 'And', 'aNd'])('joins comparisons with %s', (and) => {
      expect(parseRunFilter(`metrics.a > 1 ${and} metrics.b < 2`)).toHaveLength(2);
    });

    it('ignores leading, trailing and repeated whitespace of any kind', () => {
      expect(parseRunFilter("\n\t metrics.a   >\t1\n  AND\r\n params.b =  'x'  \t")).toEqual([
        { entity: 'metric', key: 'a', op: '>', value: 1 },
        { entity: 'param', key: 'b', op: '=', value: 'x' },
      ]);
    });

    it('keeps the comparisons in the order written, duplicates included', () => {
      const filter = 'metrics.a > 1 and metrics.a > 1 and metrics.b < 3';
      expect(parseRunFilter(filter).map((c: RunComparison) => `${c.key}${c.op}${String(c.value)}`)).toEqual(['a>1', 'a>1', 'b<3']);
    });

    it.each(['OR', 'or', 'Or'])('rejects a filter with %s, naming the position', (or) => {
      expectError(
        `metrics.acc > 0.9 ${or} params.lr = '0.01'`,
        'filter: OR is not supported (position 18); combine conditions with AND',
        18,
        'AND',
      );
    });

    it('refuses two comparisons with nothing joining them', () => {
      expectError('metrics.a > 1 metrics.b < 2', 'filter: expected AND or the end of the filter at position 14, found "metrics"', 14);
    });

    it('refuses a trailing AND', () => {
      expectError('metrics.a > 1 AND ', 'filter: expected an identifier such as metrics.acc at position 18, found end of input', 18);
    });

    it('refuses a leading AND and a doubled AND', () => {
      expectError('AND metrics.a > 1', 'filter: expected an identifier such as metrics.acc at position 0, found "AND"', 0);
      expectError('metrics.a > 1 AND AND metrics.b < 2', 'filter: expected an identifier such as metrics.acc at position 18, found "AND"', 18);
    });

    it('refuses a second statement after a semicolon', () => {
      expectError("params.a = 'x'; params.b = 'y'", 'filter: expected AND or the end of the filter at position 14, found ";"', 14);
    });

    it('refuses parentheses around a comparison', () => {
      expectError("params.a = 'x' AND (params.b = 'y')", 'filter: expected an identifier such as metrics.acc at position 19, found "("', 19);
    });
  });

  describe('limits', () => {
    const joined = (count: number) => Array.from({ length: count }, () => 'metrics.a > 1').join(' AND ');
    const list = (count: number) => `run_id IN (${Array.from({ length: count }, () => "'r'").join(',')})`;

    it('reads 100 comparisons, an IN list of 1000 values and a filter of 65,536 characters', () => {
      expect(parseRunFilter(joined(100))).toHaveLength(100);
      expect(parseRunFilter(list(1000))[0].value).toHaveLength(1000);
      expect(parseRunFilter(`params.a = '${'x'.repeat(65_523)}'`)).toHaveLength(1);
    });

    it('refuses comparison 101, naming where it starts and the limit, without reading further', () => {
      const start = joined(100).length + 5;
      expectError(`${joined(101)} AND ~~~`, `filter: has more than 100 comparisons (comparison 101 starts at position ${start}); the limit is 100`, start, 'the end of the filter');
    });

    it('refuses value 1001 of an IN list, naming the list and the limit', () => {
      expectError(list(1001), 'filter: the IN list at position 10 has more than 1000 values; the limit is 1000', 11 + 4 * 1000, '")"');
    });

    it('refuses a NUL anywhere in a filter, naming its position', () => {
      expectError("params.a = 'x\0'", 'filter: contains a NUL character (U+0000) at position 13', 13, 'a character other than NUL');
    });

    it('refuses a filter over 65,536 characters before reading it', () => {
      expectError(`params.a = '${'x'.repeat(65_524)}'`, 'filter: is 65537 characters; the limit is 65536', 65_536, 'a shorter filter');
    });
  });

  describe('filters from the MLflow documentation', () => {
    it.each<[string, RunComparison[]]>([
      ['metrics.rmse < 1 and params.model = "tree"', [
        { entity: 'metric', key: 'rmse', op: '<', value: 1 },
        { entity: 'param', key: 'model', op: '=', value: 'tree' },
      ]],
      ["attributes.status = 'FAILED'", [{ entity: 'attribute', key: 'status', op: '=', value: 'FAILED' }]],
      ["tags.`mlflow.source.type` = 'LOCAL'", [{ entity: 'tag', key: 'mlflow.source.type', op: '=', value: 'LOCAL' }]],
      ["metrics.accuracy > 0.72 AND params.model_type LIKE 'Random%'", [
        { entity: 'metric', key: 'accuracy', op: '>', value: 0.72 },
        { entity: 'param', key: 'model_type', op: 'LIKE', value: 'Random%' },
      ]],
      ["attributes.run_name ILIKE '%good%'", [{ entity: 'attribute', key: 'run_name', op: 'ILIKE', value: '%good%' }]],
      ["attributes.run_id IN ('a1b2', 'c3d4')", [{ entity: 'attribute', key: 'run_id', op: 'IN', value: ['a1b2', 'c3d4'] }]],
      ['attributes.created > 1664067852747', [{ entity: 'attribute', key: 'start_time', op: '>', value: 1664067852747 }]],
      ["datasets.name = 'eval' AND datasets.context = 'testing'", [
        { entity: 'dataset', key: 'name', op: '=', value: 'eval' },
        { entity: 'dataset', key: 'context', op: '=', value: 'testing' },
      ]],
      ['metrics."f1 score" >= 0.5 and tags."my tag" != \'x\'', [
        { entity: 'metric', key: 'f1 score', op: '>=', value: 0.5 },
        { entity: 'tag', key: 'my tag', op: '!=', value: 'x' },
      ]],
    ])('parses %s', (text, expected) => {
      expect(parseRunFilter(text)).toEqual(expected);
    });
  });

  it('throws errors that are instances of Error and FilterSyntaxError', () => {
    const error = errorOf('metrics.acc ~ 1');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('FilterSyntaxError');
  });
});

import { Dialect, type DialectName } from '@trellis/platform';
import { parseOrderBy } from '../common/search/order-by.parser';
import { parseRunFilter } from '../common/search/run-filter.parser';
import { buildRunSearchSql, type RunSearchQuery } from './run-search.query';

function build(dialect: DialectName, filter: string, orderBy: string[] = [], extra: Partial<RunSearchQuery> = {}) {
  return buildRunSearchSql(Dialect.named(dialect), {
    experimentIds: [7],
    lifecycleStage: 'active',
    filter: parseRunFilter(filter),
    orderBy: orderBy.map(parseOrderBy),
    limit: 101,
    offset: 0,
    ...extra,
  });
}

function placeholders(dialect: DialectName, sql: string): string[] {
  return sql.match(dialect === 'postgres' ? /\$\d+/g : /\?/g) ?? [];
}

const HOSTILE = "params.`k' OR '1'='1` = 'v'' OR 1=1 --' and tags.`t\"` LIKE '%x' and datasets.name IN ('a'') --') and metrics.`m;--` > 1";

describe.each<DialectName>(['postgres', 'sqlite'])('buildRunSearchSql for %s', (dialect) => {
  it('binds every key and value, so no text of the filter reaches the SQL', () => {
    const { sql, parameters } = build(dialect, HOSTILE, ['params.`o\'rder` DESC', 'tags.`x"y`']);
    for (const fragment of ["k'", "OR '1'", "1=1", 't"', "'a'", 'm;--', "o'rder", 'x"y']) expect(sql).not.toContain(fragment);
    expect(parameters).toEqual(expect.arrayContaining(["k' OR '1'='1", "v' OR 1=1 --", 't"', 'm;--', "o'rder", 'x"y']));
  });

  it('numbers its placeholders in the order the values are bound', () => {
    const { sql, parameters } = build(dialect, "params.a = 'x' and metrics.b > 2 and run_id IN ('r1', 'r2')", ['metrics.c', 'params.d DESC'], {
      experimentIds: [1, 2],
      offset: 300,
    });
    const marks = placeholders(dialect, sql);
    expect(marks).toHaveLength(parameters.length);
    if (dialect === 'postgres') expect(marks).toEqual(parameters.map((_, index) => `$${index + 1}`));
    // Order keys are joined first, then the conditions, then the page.
    expect(parameters.slice(0, 2)).toEqual(['c', 'd']);
    expect(parameters.slice(-2)).toEqual([101, 300]);
  });

  it('filters params, tags, metrics and datasets with EXISTS and joins each order key once', () => {
    const { sql } = build(dialect, "params.a = 'x' and tags.b = 'y' and metrics.c > 1 and datasets.name = 'd'", ['metrics.c DESC', 'params.a']);
    expect(sql.match(/EXISTS \(SELECT 1 FROM (\w+)/g)).toEqual([
      'EXISTS (SELECT 1 FROM run_params',
      'EXISTS (SELECT 1 FROM run_tags',
      'EXISTS (SELECT 1 FROM metric_series',
      'EXISTS (SELECT 1 FROM run_inputs',
    ]);
    expect(sql.match(/LEFT JOIN \w+/g)).toEqual(['LEFT JOIN metric_series', 'LEFT JOIN run_params']);
  });

  it('ends every order with start_time DESC and id, without repeating start_time', () => {
    expect(build(dialect, '').sql).toMatch(/ORDER BY r\.start_time DESC, r\.id ASC\n/);
    expect(build(dialect, '', ['attributes.start_time ASC']).sql).toMatch(/ORDER BY r\.start_time ASC, r\.id ASC\n/);
  });

  it('leaves lifecycle_stage out for the view type all', () => {
    expect(build(dialect, '', [], { lifecycleStage: undefined }).sql).not.toContain('lifecycle_stage');
  });
});

describe('buildRunSearchSql dialect differences', () => {
  it('lets PostgreSQL plan the first 4 EXISTS as joins and fences the rest with OFFSET 0, so a long filter plans quickly', () => {
    const filter = Array.from({ length: 6 }, (_, index) => `params.p${index} = 'x'`).join(' and ');
    const fenced = (sql: string) => (sql.match(/EXISTS \([^()]*\)/g) ?? []).map((exists) => exists.endsWith(' OFFSET 0)'));
    expect(fenced(build('postgres', filter).sql)).toEqual([false, false, false, false, true, true]);
    expect(fenced(build('sqlite', filter).sql)).toEqual([false, false, false, false, false, false]);
  });

  it('compares LIKE case-sensitively on SQLite through GLOB, and ILIKE through LIKE', () => {
    const { sql, parameters } = build('sqlite', "params.a LIKE 'A_%' and params.b ILIKE 'b*'");
    expect(sql).toContain('.value GLOB ?');
    expect(sql).toContain(".value LIKE ? ESCAPE '\\'");
    expect(parameters).toContain('A?*');
    expect(parameters).toContain('b*');
  });

  it('binds IN lists as one array on PostgreSQL and one JSON text on SQLite', () => {
    expect(build('postgres', "run_id NOT IN ('a', 'b')", [], { experimentIds: [1, 2] })).toMatchObject({
      parameters: expect.arrayContaining([[1, 2], ['a', 'b']]),
    });
    const sqlite = build('sqlite', "run_id NOT IN ('a', 'b')");
    expect(sqlite.sql).toContain('r.id NOT IN (SELECT value FROM json_each(?))');
    expect(sqlite.parameters).toContain('["a","b"]');
  });
});

import { checkOrderBy, likeMatcher, parseRegistryFilter } from './registry-filter';

describe('registry search filters', () => {
  it('maps name =, LIKE and tags.<key> = onto the registry search, escaping LIKE wildcards of an exact name', () => {
    expect(parseRegistryFilter("name = 'churn_v1%'", 'registered models')).toEqual({ nameLike: 'churn\\_v1\\%', tags: [], nameChecks: [] });
    expect(parseRegistryFilter(`name LIKE 'churn%' and tags.team = "risk" AND tag.\`cost centre\` = 'a''b'`, 'registered models')).toEqual({
      nameLike: 'churn%',
      tags: [
        { key: 'team', value: 'risk' },
        { key: 'cost centre', value: "a'b" },
      ],
      nameChecks: [],
    });
    expect(parseRegistryFilter('  ', 'model versions')).toEqual({ nameLike: '', tags: [], nameChecks: [] });
  });

  it('checks ILIKE, and a second name pattern, on each name here', () => {
    const filter = parseRegistryFilter("name ILIKE '%CHURN%' AND name LIKE 'c%' AND name = 'churn-2'", 'registered models');
    expect(filter.nameLike).toBe('c%');
    expect(filter.nameChecks.map((check) => ['Churn-2', 'churn-2', 'xchurn'].filter((name) => check.test(name)))).toEqual([['Churn-2', 'churn-2', 'xchurn'], ['churn-2']]);
  });

  it('reads run_id = and run_id IN (...) for versions, intersecting them', () => {
    expect(parseRegistryFilter("run_id IN ('a', 'b','c')", 'model versions').runIds).toEqual(['a', 'b', 'c']);
    expect(parseRegistryFilter("run_id IN ('a', 'b') and run_id = 'b'", 'model versions').runIds).toEqual(['b']);
    expect(parseRegistryFilter("run_id = 'a' and run_id = 'b'", 'model versions').runIds).toEqual([]);
  });

  it('refuses what the registry cannot search by, naming the position', () => {
    expect(() => parseRegistryFilter("name = 'a' OR name = 'b'", 'registered models')).toThrow('filter: expected AND at position 11, found "OR"');
    expect(() => parseRegistryFilter("run_id = 'a'", 'registered models')).toThrow('filter: registered models cannot be searched by "run_id" (position 0); the fields are name, tags.<key>');
    expect(() => parseRegistryFilter("name = 'a' and source_path = 'x'", 'model versions')).toThrow('"source_path" (position 15)');
    expect(() => parseRegistryFilter("name != 'a'", 'registered models')).toThrow('filter: != at position 5 is not supported on name; use =, LIKE, ILIKE');
    expect(() => parseRegistryFilter("tags.k LIKE 'a%'", 'registered models')).toThrow('LIKE at position 7 is not supported on tags.<key>; use =');
    expect(() => parseRegistryFilter("run_id NOT IN ('a')", 'model versions')).toThrow('NOT IN at position 7');
    expect(() => parseRegistryFilter('name = churn', 'registered models')).toThrow('expected a quoted string at position 7, found "churn"');
    expect(() => parseRegistryFilter("name = 'churn", 'registered models')).toThrow('unterminated string starting at position 7');
    expect(() => parseRegistryFilter("name = 'a' and", 'registered models')).toThrow('at position 14, found end of input');
  });

  it('reads LIKE patterns as MLflow does: % any run, _ one character, backslash a literal', () => {
    expect(likeMatcher('a_c%', false).test('abcdef')).toBe(true);
    expect(likeMatcher('a_c%', false).test('ABC')).toBe(false);
    expect(likeMatcher('a_c%', true).test('ABC')).toBe(true);
    expect(likeMatcher('50\\%', false).test('50%')).toBe(true);
    expect(likeMatcher('50\\%', false).test('500')).toBe(false);
    expect(likeMatcher('a.b(c)', false).test('a.b(c)')).toBe(true);
  });

  it('takes the order the registry has, and refuses any other saying what it is', () => {
    expect(() => checkOrderBy(['name ASC'], ['name ASC'], 'registered models')).not.toThrow();
    expect(() => checkOrderBy(['name'], ['name ASC'], 'registered models')).not.toThrow();
    expect(() => checkOrderBy(['name asc', 'version_number DESC'], ['name ASC', 'version_number DESC'], 'model versions')).not.toThrow();
    expect(() => checkOrderBy(['last_updated_timestamp DESC'], ['name ASC'], 'registered models')).toThrow(
      'order_by: "last_updated_timestamp DESC" is not supported; registered models come in one order, name ASC',
    );
    expect(() => checkOrderBy(['version_number DESC', 'name ASC'], ['name ASC', 'version_number DESC'], 'model versions')).toThrow('"name ASC" is not supported');
    expect(() => checkOrderBy(['name DESC'], ['name ASC'], 'registered models')).toThrow('"name DESC"');
  });

  it('answers patterns of many % on names that fail them (a backtracking regular expression would run for hours)', () => {
    const pattern = `${'%x'.repeat(30)}%!`;
    expect(likeMatcher(pattern, true).test('x'.repeat(200))).toBe(false);
    expect(likeMatcher(pattern, false).test(`${'x'.repeat(30)}!`)).toBe(true);
    expect(likeMatcher('a%b_c\\%', false).test('aXXbYc%')).toBe(true);
    expect(likeMatcher('a%b_c\\%', false).test('aXXbYcd')).toBe(false);
  });
});

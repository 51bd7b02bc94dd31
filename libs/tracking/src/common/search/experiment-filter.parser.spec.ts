import { parseExperimentFilter, parseExperimentOrderBy } from './experiment-filter.parser';
import { FilterSyntaxError } from './filter-syntax.error';

function errorOf(parse: () => unknown): FilterSyntaxError {
  try {
    parse();
  } catch (error) {
    if (error instanceof FilterSyntaxError) return error;
    throw error;
  }
  throw new Error('the parser accepted it');
}

describe('parseExperimentFilter', () => {
  it('reads attributes and tags joined by AND', () => {
    expect(parseExperimentFilter("name LIKE 'fraud%' and attributes.creation_time >= 1700000000000 and tags.`my team` != 'x'")).toEqual([
      { entity: 'attribute', key: 'name', op: 'LIKE', value: 'fraud%' },
      { entity: 'attribute', key: 'creation_time', op: '>=', value: 1700000000000 },
      { entity: 'tag', key: 'my team', op: '!=', value: 'x' },
    ]);
  });

  it.each(['attr.last_update_time < 5', 'attribute.last_update_time < 5'])('reads %s', (text) => {
    expect(parseExperimentFilter(text)).toEqual([{ entity: 'attribute', key: 'last_update_time', op: '<', value: 5 }]);
  });

  it.each([
    ['params.lr = 1', 'filter: unknown entity "params" at position 0; expected one of attributes, attribute, attr, tags, tag', 0],
    ['run.name = 1', 'filter: unknown entity "run" at position 0; expected one of attributes, attribute, attr, tags, tag', 0],
    ["experiment_id = '1'", 'filter: unknown attribute "experiment_id" at position 0; expected one of name, creation_time, last_update_time', 0],
    ['name > 3', 'filter: operator > is not allowed for attribute "name" at position 5; expected one of =, !=, LIKE, ILIKE', 5],
    ["tags.a IN ('x')", 'filter: operator IN is not allowed for tag "a" at position 7; expected one of =, !=, LIKE, ILIKE', 7],
    ['creation_time = 1.5', 'filter: expected an integer (milliseconds since the epoch) for attribute "creation_time" at position 16, found "1.5"', 16],
    ["name = 'a' or name = 'b'", 'filter: OR is not supported (position 11); combine conditions with AND', 11],
    ['= 1', 'filter: expected an identifier such as tags.team at position 0, found "="', 0],
  ])('refuses %j, naming the position', (text, message, position) => {
    const error = errorOf(() => parseExperimentFilter(text));
    expect([error.message, error.position]).toEqual([message, position]);
  });
});

describe('parseExperimentOrderBy', () => {
  it.each([
    ['name', { entity: 'attribute', key: 'name', ascending: true }],
    ['experiment_id DESC', { entity: 'attribute', key: 'experiment_id', ascending: false }],
    ['attributes.last_update_time desc', { entity: 'attribute', key: 'last_update_time', ascending: false }],
  ])('parses %j', (text, expected) => {
    expect(parseExperimentOrderBy(text)).toEqual(expected);
  });

  it('refuses ordering by tags', () => {
    expect(errorOf(() => parseExperimentOrderBy('tags.team')).message).toBe('order_by: ordering by tags is not supported (position 0); expected attributes');
  });
});

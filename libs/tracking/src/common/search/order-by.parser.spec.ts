import { FilterSyntaxError } from './filter-syntax.error';
import { parseOrderBy } from './order-by.parser';

function errorOf(text: string): FilterSyntaxError {
  try {
    parseOrderBy(text);
  } catch (error) {
    if (error instanceof FilterSyntaxError) return error;
    throw error;
  }
  throw new Error(`parseOrderBy accepted ${JSON.stringify(text)}`);
}

describe('parseOrderBy', () => {
  it.each([
    ['metrics.acc DESC', { entity: 'metric', key: 'acc', ascending: false }],
    ['attributes.start_time ASC', { entity: 'attribute', key: 'start_time', ascending: true }],
    ['params.lr', { entity: 'param', key: 'lr', ascending: true }],
    ['tags.team desc', { entity: 'tag', key: 'team', ascending: false }],
    ['metrics.rmse asc', { entity: 'metric', key: 'rmse', ascending: true }],
    ['  metrics.`f1 score`   Desc  ', { entity: 'metric', key: 'f1 score', ascending: false }],
    ['metrics."f1 score"', { entity: 'metric', key: 'f1 score', ascending: true }],
    ['start_time DESC', { entity: 'attribute', key: 'start_time', ascending: false }],
    ['attr.created', { entity: 'attribute', key: 'start_time', ascending: true }],
    ['run.run_name DESC', { entity: 'attribute', key: 'run_name', ascending: false }],
    ['attributes.status', { entity: 'attribute', key: 'status', ascending: true }],
    ['metric.loss.val DESC', { entity: 'metric', key: 'loss.val', ascending: false }],
  ])('parses %j', (text, expected) => {
    expect(parseOrderBy(text)).toEqual(expected);
  });

  it('refuses ordering by a dataset', () => {
    const error = errorOf('datasets.name');
    expect(error.message).toBe(
      'order_by: ordering by datasets is not supported (position 0); expected attributes, metrics, params or tags',
    );
    expect(error.position).toBe(0);
  });

  it('refuses the "run name" alias, which MLflow accepts in filters only', () => {
    const error = errorOf('attributes.`run name`');
    expect(error.message).toBe(
      'order_by: unknown attribute "run name" at position 11; expected one of run_id, run_name, status, user_id, artifact_uri, start_time, end_time, created',
    );
    expect(error.position).toBe(11);
  });

  it.each([
    ['metrics.acc DOWN', 'order_by: expected ASC, DESC or the end of the clause at position 12, found "DOWN"', 12],
    ['metrics.acc DESC ASC', 'order_by: expected the end of the clause at position 17, found "ASC"', 17],
    ['metrics.acc, params.lr', 'order_by: expected ASC, DESC or the end of the clause at position 11, found ","', 11],
    ['', 'order_by: expected an identifier such as metrics.acc at position 0, found end of input', 0],
    ['DESC', 'order_by: unknown attribute "DESC" at position 0; expected one of run_id, run_name, status, user_id, artifact_uri, start_time, end_time, created', 0],
    ['foo.bar', 'order_by: unknown entity "foo" at position 0; expected one of attributes, attribute, attr, run, metrics, metric, params, param, parameters, parameter, tags, tag, datasets, dataset', 0],
    ['metrics.`acc DESC', 'order_by: unterminated quoted key starting at position 8; expected a closing quote (`)', 8],
    ['metrics.`a\0` DESC', 'order_by: contains a NUL character (U+0000) at position 10', 10],
  ])('refuses %j', (text, message, position) => {
    const error = errorOf(text);
    expect(error.message).toBe(message);
    expect(error.position).toBe(position);
  });
});

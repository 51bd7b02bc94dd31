import 'reflect-metadata';
import { Dialect, InvalidArgumentError, type DatabaseConfig } from '@trellis/platform';
import { createTestDatabase, testSqliteDatabase, type TestDatabase } from '@trellis/testing';
import type { DataSource } from 'typeorm';
import { RunRepository } from './run.repository';
import { buildRunSearchSql } from './run-search.query';
import { parseOrderBy } from '../common/search/order-by.parser';
import { parseRunFilter } from '../common/search/run-filter.parser';
import { RunSearch, type RunSearchRequest } from './run-search';
import { insertRow, openSearchDatabase } from '../common/search/test-fixtures/search-tables';

interface SeedRun {
  id: string;
  experiment?: number;
  name?: string;
  user?: string;
  status?: string;
  start: number;
  end?: number | null;
  stage?: 'active' | 'deleted';
  params?: Record<string, string>;
  tags?: Record<string, string>;
  metrics?: Record<string, number>;
  inputs?: Array<{ name: string; digest: string; context: string | null }>;
}

// Experiment 1 holds r1..r5 (r5 deleted), experiment 2 holds r6, experiment 3 the paging runs.
const RUNS: SeedRun[] = [
  {
    id: 'r1', name: 'alpha', user: 'ann', status: 'FINISHED', start: 1000, end: 2000,
    params: { lr: '0.01', model: 'Tree', pct: '50%', expr: 'axxb', [`it's "odd"`]: 'v' },
    tags: { team: 'vision' },
    metrics: { acc: 0.9, loss: 0.3 },
    inputs: [{ name: 'train', digest: 'd1', context: 'training' }],
  },
  {
    id: 'r2', name: 'Beta', user: 'bob', status: 'FAILED', start: 2000, end: null,
    params: { lr: '0.1', model: 'tree', pct: '50x', expr: 'a*b', 'a`b': 'v', bracket: '[x]' },
    tags: { team: 'Vision' },
    metrics: { acc: 0.5 },
    inputs: [{ name: 'eval', digest: 'd2', context: null }],
  },
  {
    id: 'r3', name: 'gamma', user: 'ann', status: 'RUNNING', start: 3000, end: null,
    params: { model: 'forest', bracket: 'x' },
    metrics: { acc: Number.NaN, loss: 0.1 },
  },
  {
    id: 'r4', name: 'delta_1', user: 'carl', status: 'FINISHED', start: 3000, end: 5000,
    params: { lr: '0.01' },
    tags: { team: 'speech', note: "it's" },
    metrics: { loss: 0.2 },
    inputs: [
      { name: 'train', digest: 'd1', context: 'training' },
      { name: 'eval', digest: 'd3', context: 'validation' },
    ],
  },
  { id: 'r5', name: 'eps', start: 4000, stage: 'deleted', params: { lr: '0.01' } },
  { id: 'r6', experiment: 2, name: 'zeta', start: 5000, params: { lr: '0.01' }, metrics: { acc: 0.7 } },
  // 25 runs for paging: start times in groups of four (ties), a score on two runs in three.
  ...Array.from({ length: 25 }, (_, i): SeedRun => ({
    id: `p${String(i).padStart(2, '0')}`,
    experiment: 3,
    start: 100 * Math.floor(i / 4),
    metrics: i % 3 === 2 ? {} : { score: (i * 7) % 5 },
  })),
];

async function seed(dataSource: DataSource): Promise<void> {
  for (const id of [1, 2, 3]) {
    await insertRow(dataSource, 'experiments', {
      id, project_id: 'p', name: `e${id}`, artifact_location: '/a', lifecycle_stage: 'active', created_at: 1, updated_at: 1,
    });
  }
  for (const run of RUNS) {
    await insertRow(dataSource, 'runs', {
      id: run.id,
      experiment_id: run.experiment ?? 1,
      project_id: 'p',
      name: run.name ?? run.id,
      user_id: run.user ?? 'u',
      status: run.status ?? 'FINISHED',
      start_time: run.start,
      end_time: run.end === undefined ? run.start + 10 : run.end,
      artifact_uri: `s3://bucket/${run.id}`,
      artifact_store: 'default',
      lifecycle_stage: run.stage ?? 'active',
    });
    for (const [table, values] of [['run_params', run.params], ['run_tags', run.tags]] as const) {
      for (const [key, value] of Object.entries(values ?? {})) await insertRow(dataSource, table, { run_id: run.id, key, value });
    }
    for (const [key, value] of Object.entries(run.metrics ?? {})) {
      await insertRow(dataSource, 'metric_series', {
        run_id: run.id, key, latest_value: value, latest_step: 0, latest_timestamp: 1, point_count: 1, max_step: 0, monotonic: true,
      });
    }
    for (const [position, input] of (run.inputs ?? []).entries()) {
      await insertRow(dataSource, 'run_inputs', {
        run_id: run.id, position, ...input, source_type: 'local', source: '{}', schema: '{}', profile: '{}', tags: '[]',
      });
    }
  }
}

const engines: Array<[string, () => Promise<TestDatabase<DatabaseConfig>>]> = [
  ['SQLite', async () => testSqliteDatabase()],
  ['PostgreSQL', () => createTestDatabase()],
];

describe.each(engines)('RunSearch on %s', (_engine, makeDatabase) => {
  let database: TestDatabase<DatabaseConfig>;
  let dataSource: DataSource;
  let runSearch: RunSearch;

  beforeAll(async () => {
    database = await makeDatabase();
    dataSource = await openSearchDatabase(database.config);
    await seed(dataSource);
    runSearch = new RunSearch(new RunRepository(dataSource));
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  const search = (request: Partial<RunSearchRequest>) =>
    runSearch.search({ experimentIds: [1], filter: '', orderBy: [], viewType: 'active', pageSize: 0, pageToken: '', ...request });
  const idsOf = async (filter: string, request: Partial<RunSearchRequest> = {}) => (await search({ filter, ...request })).runIds;
  const rejection = async (request: Partial<RunSearchRequest>): Promise<InvalidArgumentError> => {
    const error = await search(request).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    if (!(error instanceof InvalidArgumentError)) throw new Error(`expected InvalidArgumentError, got ${String(error)}`);
    return error;
  };

  it('returns the active runs of the experiment, latest start first and ties by id, for an empty filter', async () => {
    expect(await idsOf('')).toEqual(['r3', 'r4', 'r2', 'r1']);
  });

  describe('params and tags', () => {
    it.each([
      ["params.lr = '0.01'", ['r4', 'r1']],
      ["params.lr != '0.01'", ['r2']],
      ["params.model = 'tree'", ['r2']],
      ["params.model LIKE 'tree'", ['r2']],
      ["params.model LIKE 'T%'", ['r1']],
      ["params.model ILIKE 'TREE'", ['r2', 'r1']],
      ["params.model LIKE 'f_rest'", ['r3']],
      ["params.model LIKE '%e%'", ['r3', 'r2', 'r1']],
      ["params.pct LIKE '50\\%'", ['r1']],
      ["params.pct ILIKE '50\\%'", ['r1']],
      ["params.pct LIKE '50_'", ['r2', 'r1']],
      ["params.expr LIKE 'a*b'", ['r2']],
      ["params.expr LIKE 'a?xb'", []],
      ["params.bracket LIKE '[x]'", ['r2']],
      ["params.bracket LIKE '%x%'", ['r3', 'r2']],
      ["tags.team = 'vision'", ['r1']],
      ["tags.team != 'vision'", ['r4', 'r2']],
      ["tags.team ILIKE 'VISION'", ['r2', 'r1']],
      ["tags.team LIKE 'V%'", ['r2']],
      ["tags.note = 'it''s'", ['r4']],
      ['tags.note = "it\'s"', ['r4']],
      ["params.lr = '0.01' and tags.team = 'speech'", ['r4']],
    ])('%s', async (filter, expected) => {
      expect(await idsOf(filter)).toEqual(expected);
    });

    it('leaves out runs without the key, for != as well', async () => {
      expect(await idsOf("params.lr != 'nothing'")).toEqual(['r4', 'r2', 'r1']);
      expect(await idsOf("tags.missing != 'x'")).toEqual([]);
    });
  });

  describe('metrics', () => {
    it.each([
      ['metrics.acc > 0.6', ['r1']],
      ['metrics.acc >= 0.5', ['r2', 'r1']],
      ['metrics.acc < 1', ['r2', 'r1']],
      ['metrics.acc <= 0.5', ['r2']],
      ['metrics.acc = 0.5', ['r2']],
      ['metrics.acc != 0.9', ['r2']],
      ['metrics.loss <= 0.2', ['r3', 'r4']],
      ['metrics.loss > -1e3 and metrics.acc > 0', ['r1']],
    ])('%s compares the latest value; NaN and missing keys match nothing', async (filter, expected) => {
      expect(await idsOf(filter)).toEqual(expected);
    });
  });

  describe('attributes', () => {
    it.each([
      ["attributes.status = 'FAILED'", ['r2']],
      ["status != 'FINISHED'", ['r3', 'r2']],
      ["attributes.status LIKE 'F%'", ['r4', 'r2', 'r1']],
      ["attributes.run_name = 'alpha'", ['r1']],
      ["attributes.run_name LIKE 'beta'", []],
      ["attributes.run_name ILIKE 'beta'", ['r2']],
      ["run_name LIKE 'delta\\_%'", ['r4']],
      ["attributes.`run name` = 'gamma'", ['r3']],
      ["attributes.user_id = 'ann'", ['r3', 'r1']],
      ["attributes.artifact_uri LIKE 's3://bucket/r1'", ['r1']],
      ['attributes.start_time >= 3000', ['r3', 'r4']],
      ['attributes.start_time < 2000', ['r1']],
      ['attributes.created = 2000', ['r2']],
      ['attributes.end_time > 0', ['r4', 'r1']],
      ['attributes.end_time != 2000', ['r4']],
      ['attributes.end_time <= 5000', ['r4', 'r1']],
      ["attributes.run_id IN ('r1', 'r3', 'r6')", ['r3', 'r1']],
      ["attributes.run_id NOT IN ('r1')", ['r3', 'r4', 'r2']],
      ["attributes.run_id = 'r2'", ['r2']],
      ["attributes.run_id LIKE 'r%' and attributes.run_id != 'r3'", ['r4', 'r2', 'r1']],
    ])('%s', async (filter, expected) => {
      expect(await idsOf(filter)).toEqual(expected);
    });
  });

  describe('datasets', () => {
    it.each([
      ["datasets.name = 'train'", ['r4', 'r1']],
      ["datasets.context = 'training'", ['r4', 'r1']],
      ["datasets.context != 'training'", ['r4']],
      ["datasets.digest IN ('d2', 'd3')", ['r4', 'r2']],
      ["datasets.name NOT IN ('train')", ['r4', 'r2']],
      ["datasets.name LIKE 'EV%'", []],
      ["datasets.name ILIKE 'EV%'", ['r4', 'r2']],
      ["datasets.name = 'train' and datasets.context = 'validation'", ['r4']],
    ])('%s matches a run if any of its inputs matches', async (filter, expected) => {
      expect(await idsOf(filter)).toEqual(expected);
    });
  });

  describe('experiments and view types', () => {
    it('searches deleted runs, or both, by view type', async () => {
      expect(await idsOf("params.lr = '0.01'", { viewType: 'deleted' })).toEqual(['r5']);
      expect(await idsOf("params.lr = '0.01'", { viewType: 'all' })).toEqual(['r5', 'r4', 'r1']);
    });

    it('searches several experiments at once', async () => {
      expect(await idsOf("params.lr = '0.01'", { experimentIds: [2, 1] })).toEqual(['r6', 'r4', 'r1']);
    });

    it('returns nothing for no experiments', async () => {
      expect(await search({ experimentIds: [] })).toEqual({ runIds: [], nextPageToken: '' });
    });
  });

  describe('order_by', () => {
    it.each([
      [['metrics.acc DESC'], ['r1', 'r2', 'r3', 'r4']],
      [['metrics.acc'], ['r2', 'r1', 'r3', 'r4']],
      [['metrics.loss ASC'], ['r3', 'r4', 'r1', 'r2']],
      [['params.lr ASC'], ['r4', 'r1', 'r2', 'r3']],
      [['params.lr DESC'], ['r2', 'r4', 'r1', 'r3']],
      [['tags.team ASC'], ['r2', 'r4', 'r1', 'r3']],
      [['tags.team DESC'], ['r1', 'r4', 'r2', 'r3']],
      [['attributes.end_time ASC'], ['r1', 'r4', 'r3', 'r2']],
      [['attributes.end_time DESC'], ['r4', 'r1', 'r3', 'r2']],
      [['attributes.run_name'], ['r2', 'r1', 'r4', 'r3']],
      [['attributes.start_time ASC'], ['r1', 'r2', 'r3', 'r4']],
      [['attributes.run_id DESC'], ['r4', 'r3', 'r2', 'r1']],
      [['attributes.status', 'attributes.user_id DESC'], ['r2', 'r4', 'r1', 'r3']],
      [['params.lr', 'metrics.loss DESC'], ['r1', 'r4', 'r2', 'r3']],
    ])('%j puts runs without the key last in either direction, then start_time DESC and id', async (orderBy, expected) => {
      expect(await idsOf('', { orderBy })).toEqual(expected);
    });
  });

  describe('paging', () => {
    it.each([[[]], [['metrics.score DESC']], [['attributes.start_time ASC']]])(
      'walks %j in pages of 7 without duplicates or gaps',
      async (orderBy) => {
        const all = (await search({ experimentIds: [3], orderBy })).runIds;
        expect(all).toHaveLength(25);
        const pages: string[][] = [];
        let pageToken = '';
        do {
          const page = await search({ experimentIds: [3], orderBy, pageSize: 7, pageToken });
          pages.push(page.runIds);
          pageToken = page.nextPageToken;
        } while (pageToken !== '' && pages.length < 10);
        expect(pages.map((page) => page.length)).toEqual([7, 7, 7, 4]);
        expect(pages.flat()).toEqual(all);
      },
    );

    it('ends without a token when the last page is exactly full', async () => {
      const first = await search({ experimentIds: [1], pageSize: 2 });
      const second = await search({ experimentIds: [1], pageSize: 2, pageToken: first.nextPageToken });
      expect([first.runIds, second]).toEqual([['r3', 'r4'], { runIds: ['r2', 'r1'], nextPageToken: '' }]);
    });

    it('refuses a token from another filter, order, experiment list or view type', async () => {
      const { nextPageToken } = await search({ pageSize: 1, filter: "params.lr = '0.01'" });
      expect(nextPageToken).not.toBe('');
      for (const other of [
        { filter: "params.lr = '0.1'" },
        { filter: "params.lr = '0.01'", orderBy: ['metrics.acc'] },
        { filter: "params.lr = '0.01'", experimentIds: [1, 2] },
        { filter: "params.lr = '0.01'", viewType: 'all' as const },
      ]) {
        const error = await rejection({ ...other, pageToken: nextPageToken });
        expect(error.field).toBe('page_token');
      }
      expect((await search({ filter: "params.lr='0.01'", pageToken: nextPageToken, pageSize: 1 })).runIds).toEqual(['r1']);
    });

    it('refuses a token it did not make', async () => {
      expect((await rejection({ pageToken: 'not-a-token' })).message).toBe('page_token: is not a token a previous page of this list returned');
    });

    it.each([-1, 50_001, 1.5])('refuses page_size %d', async (pageSize) => {
      const error = await rejection({ pageSize });
      expect(error.field).toBe('page_size');
      expect(error.message).toBe(`page_size: must be between 0 and 50000, found ${pageSize}`);
    });

    it('accepts page_size 50,000', async () => {
      expect(await search({ pageSize: 50_000 })).toEqual({ runIds: ['r3', 'r4', 'r2', 'r1'], nextPageToken: '' });
    });
  });

  describe('hostile input', () => {
    it.each([
      "params.lr = '1'' OR 1=1 --'",
      "params.lr = '0.01'' OR ''1''=''1'",
      'params.lr = "0.01\\" OR 1=1 --"',
      "params.`lr' OR 1=1 --` = '0.01'",
      "tags.`team\"` = 'vision'",
      "metrics.`acc; DROP TABLE runs; --` > 0",
      "datasets.name IN ('train'') OR (''1''=''1')",
      "attributes.run_id IN ('r1'' OR 1=1 --')",
      "params.lr LIKE '%'' OR 1=1 --'",
    ])('finds nothing for %s', async (filter) => {
      expect(await idsOf(filter)).toEqual([]);
      expect(Number((await dataSource.query('SELECT count(*) AS n FROM runs'))[0].n)).toBe(RUNS.length);
    });

    it('matches keys with quotes and backquotes exactly', async () => {
      expect(await idsOf("params.`it's \"odd\"` = 'v'")).toEqual(['r1']);
      expect(await idsOf("params.`a``b` = 'v'")).toEqual(['r2']);
      expect(await idsOf('', { orderBy: ["params.`a``b` DESC", "params.`it's \"odd\"`"] })).toEqual(['r2', 'r1', 'r3', 'r4']);
    });
  });

  describe('limits', () => {
    const comparisons = (count: number) => Array.from({ length: count }, () => "params.a='x'").join(' AND ');

    it('answers a filter of 100 comparisons, the most it takes, and an IN list of 1000 run ids', async () => {
      expect(await idsOf(Array.from({ length: 100 }, () => "params.lr = '0.01'").join(' and '))).toEqual(['r4', 'r1']);
      const runIds = ['r2', ...Array.from({ length: 998 }, (_, index) => `x${index}`), 'r3'];
      expect(await idsOf(`attributes.run_id IN (${runIds.map((id) => `'${id}'`).join(', ')})`)).toEqual(['r3', 'r2']);
    });

    it.each([
      [1000, 'filter: has more than 100 comparisons (comparison 101 starts at position 1700); the limit is 100'],
      [5000, 'filter: is 84995 characters; the limit is 65536'],
    ])('refuses a filter of %d comparisons with INVALID_ARGUMENT naming the limit', async (count, message) => {
      const error = await rejection({ filter: comparisons(count) });
      expect([error.field, error.message]).toEqual(['filter', message]);
    });

    it('refuses an IN list of more than 1000 values and a filter longer than 65,536 characters, naming the limit', async () => {
      const list = Array.from({ length: 1001 }, (_, index) => `'r${index}'`).join(',');
      expect((await rejection({ filter: `attributes.run_id IN (${list})` })).message).toBe('filter: the IN list at position 21 has more than 1000 values; the limit is 1000');
      expect((await rejection({ filter: `params.lr = '${'x'.repeat(65_536)}'` })).message).toBe('filter: is 65550 characters; the limit is 65536');
    });

    it('orders by 20 params, tags and metrics at once, the most it takes, and refuses 21 naming the limit', async () => {
      const keyed = (count: number) => Array.from({ length: count }, (_, index) => `${['params', 'tags', 'metrics'][index % 3]}.k${index}`);
      expect(await idsOf('', { orderBy: [...keyed(19), 'metrics.acc DESC'] })).toEqual(['r1', 'r2', 'r3', 'r4']);
      const error = await rejection({ orderBy: keyed(21) });
      expect([error.field, error.message]).toEqual(['order_by', 'order_by: has 21 entries; the limit is 20']);
    });
  });

  describe('errors', () => {
    it('refuses a bad filter with INVALID_ARGUMENT on filter, naming the position and the expected token', async () => {
      const error = await rejection({ filter: "metrics.acc > 0.5 and params.lr ~ '1'" });
      expect(error.field).toBe('filter');
      expect(error.message).toBe('filter: expected a comparison operator at position 32, found "~"');
    });

    it('refuses OR, naming its position', async () => {
      expect((await rejection({ filter: "params.a = 'x' or params.b = 'y'" })).message).toBe(
        'filter: OR is not supported (position 15); combine conditions with AND',
      );
    });

    it('refuses a bad order_by entry on order_by, naming the entry and the position', async () => {
      const error = await rejection({ orderBy: ['metrics.acc DESC', 'params.lr DOWN'] });
      expect(error.field).toBe('order_by');
      expect(error.message).toBe('order_by: entry 1: expected ASC, DESC or the end of the clause at position 10, found "DOWN"');
    });

    it('refuses a NUL in a filter or an order_by entry, which PostgreSQL cannot compare, on either database', async () => {
      expect((await rejection({ filter: "params.lr = '0.01\0'" })).message).toBe('filter: contains a NUL character (U+0000) at position 17');
      expect((await rejection({ orderBy: ['params.`lr\0`'] })).message).toBe('order_by: contains a NUL character (U+0000) at position 10');
    });

    it('refuses an order_by that names a key twice', async () => {
      expect((await rejection({ orderBy: ['metrics.acc DESC', 'metric.acc'] })).message).toBe(
        'order_by: entry 1 orders by "metric.acc" again; name each key once',
      );
    });
  });

  // SQLite has no statistics to choose by (PostgreSQL weighs both indexes with its own).
  (_engine === 'SQLite' ? it : it.skip)('finds a run\'s metric by its (run_id, key) row, never by scanning the index of every run\'s values', async () => {
    const { sql, parameters } = buildRunSearchSql(Dialect.of(dataSource), {
      experimentIds: [1],
      lifecycleStage: 'active',
      filter: parseRunFilter("params.model = 'tree' and metrics.acc > 0.5"),
      orderBy: [parseOrderBy('metrics.loss')],
      limit: 100,
      offset: 0,
    });
    const plan = JSON.stringify(await dataSource.query(`EXPLAIN QUERY PLAN ${sql}`, parameters));
    // The value index (key, latest_value, run_id) serves searches across runs, not a run's own row.
    expect(plan).not.toContain('metric_series_key_latest');
  });
});


import 'reflect-metadata';
import { InvalidArgumentError, type DatabaseConfig } from '@trellis/platform';
import { createTestDatabase, testSqliteDatabase, type TestDatabase } from '@trellis/testing';
import type { DataSource } from 'typeorm';
import { ExperimentRepository } from './experiment.repository';
import { ExperimentSearch, type ExperimentSearchRequest } from './experiment-search';
import { insertRow, openSearchDatabase } from '../common/search/test-fixtures/search-tables';

const EXPERIMENTS = [
  { id: 1, project: 'p1', name: 'fraud-detection', created: 1000, updated: 5000, tags: { team: 'risk' } },
  { id: 2, project: 'p1', name: 'Fraud-v2', created: 2000, updated: 2000, tags: { team: 'Risk', stage: 'prod' } },
  { id: 3, project: 'p2', name: 'churn', created: 2000, updated: 3000, tags: {} },
  { id: 4, project: 'p1', name: 'old', created: 500, updated: 600, tags: { team: 'risk' }, deleted: true },
  { id: 5, project: 'p3', name: 'x_y', created: 1500, updated: 1500, tags: { "it's": 'v' } },
  // For paging: 12 experiments of p9 created at 10, 20 or 30.
  ...Array.from({ length: 12 }, (_, i) => ({ id: 10 + i, project: 'p9', name: `page-${i}`, created: 10 * (1 + (i % 3)), updated: 1, tags: {} })),
];

const engines: Array<[string, () => Promise<TestDatabase<DatabaseConfig>>]> = [
  ['SQLite', async () => testSqliteDatabase()],
  ['PostgreSQL', () => createTestDatabase()],
];

describe.each(engines)('ExperimentSearch on %s', (_engine, makeDatabase) => {
  let database: TestDatabase<DatabaseConfig>;
  let dataSource: DataSource;
  let experimentSearch: ExperimentSearch;

  beforeAll(async () => {
    database = await makeDatabase();
    dataSource = await openSearchDatabase(database.config);
    for (const experiment of EXPERIMENTS) {
      await insertRow(dataSource, 'experiments', {
        id: experiment.id,
        project_id: experiment.project,
        name: experiment.name,
        artifact_location: '/a',
        lifecycle_stage: 'deleted' in experiment ? 'deleted' : 'active',
        created_at: experiment.created,
        updated_at: experiment.updated,
      });
      for (const [key, value] of Object.entries(experiment.tags)) {
        await insertRow(dataSource, 'experiment_tags', { experiment_id: experiment.id, key, value });
      }
    }
    experimentSearch = new ExperimentSearch(new ExperimentRepository(dataSource));
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  const search = (request: Partial<ExperimentSearchRequest>) =>
    experimentSearch.search({ projectIds: ['p1', 'p2', 'p3'], filter: '', orderBy: [], viewType: 'active', pageSize: 0, pageToken: '', ...request });
  const idsOf = async (filter: string, request: Partial<ExperimentSearchRequest> = {}) => (await search({ filter, ...request })).experimentIds;
  const rejection = async (request: Partial<ExperimentSearchRequest>): Promise<InvalidArgumentError> => {
    const error = await search(request).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    if (!(error instanceof InvalidArgumentError)) throw new Error(`expected InvalidArgumentError, got ${String(error)}`);
    return error;
  };

  it('orders by creation_time DESC, then experiment_id ASC, by default', async () => {
    expect(await idsOf('')).toEqual([2, 3, 5, 1]);
  });

  it('searches only the given projects, or every project for all', async () => {
    expect(await idsOf('', { projectIds: ['p1'] })).toEqual([2, 1]);
    expect(await idsOf('', { projectIds: [] })).toEqual([]);
    expect(await idsOf("name LIKE 'page-%'", { projectIds: 'all' })).toHaveLength(12);
  });

  it('searches deleted experiments, or both, by view type', async () => {
    expect(await idsOf('', { viewType: 'deleted' })).toEqual([4]);
    expect(await idsOf('', { viewType: 'all', projectIds: ['p1'] })).toEqual([2, 1, 4]);
  });

  it.each([
    ["name = 'churn'", [3]],
    ["attributes.name != 'churn'", [2, 5, 1]],
    ["name LIKE 'fraud%'", [1]],
    ["name ILIKE 'FRAUD%'", [2, 1]],
    ["name LIKE 'x_y'", [5]],
    ["name LIKE 'x\\_%'", [5]],
    ['creation_time >= 2000', [2, 3]],
    ['attr.creation_time < 2000', [5, 1]],
    ['last_update_time = 3000', [3]],
    ['last_update_time != 3000', [2, 5, 1]],
    ["tags.team = 'risk'", [1]],
    ["tags.team != 'risk'", [2]],
    ["tags.team ILIKE 'RISK'", [2, 1]],
    ["tags.team LIKE 'R%'", [2]],
    ["tag.`it's` = 'v'", [5]],
    ["tags.team ILIKE 'risk' and last_update_time > 3000", [1]],
  ])('%s', async (filter, expected) => {
    expect(await idsOf(filter)).toEqual(expected);
  });

  it.each([
    [['name'], [2, 3, 1, 5]],
    [['name DESC'], [5, 1, 3, 2]],
    [['last_update_time DESC'], [1, 3, 2, 5]],
    [['experiment_id DESC'], [5, 3, 2, 1]],
    [['creation_time', 'experiment_id DESC'], [1, 5, 3, 2]],
  ])('orders by %j', async (orderBy, expected) => {
    expect(await idsOf('', { orderBy })).toEqual(expected);
  });

  it('walks the experiments in pages without duplicates or gaps', async () => {
    const all = await idsOf('', { projectIds: ['p9'] });
    expect(all).toHaveLength(12);
    const pages: number[][] = [];
    let pageToken = '';
    do {
      const page = await search({ projectIds: ['p9'], pageSize: 5, pageToken });
      pages.push(page.experimentIds);
      pageToken = page.nextPageToken;
    } while (pageToken !== '' && pages.length < 5);
    expect(pages.map((page) => page.length)).toEqual([5, 5, 2]);
    expect(pages.flat()).toEqual(all);
  });

  it('refuses a token from another filter or project list', async () => {
    const { nextPageToken } = await search({ pageSize: 1 });
    expect((await rejection({ pageToken: nextPageToken, filter: "name = 'x'" })).field).toBe('page_token');
    expect((await rejection({ pageToken: nextPageToken, projectIds: 'all' })).field).toBe('page_token');
    expect((await search({ pageToken: nextPageToken, pageSize: 1 })).experimentIds).toEqual([3]);
  });

  it.each(["name = 'churn'' OR ''1''=''1'", "tags.`team' OR 1=1 --` = 'risk'", "name LIKE '%'' --'"])('finds nothing for %s', async (filter) => {
    expect(await idsOf(filter)).toEqual([]);
  });

  it.each([
    ['metrics.acc > 1', 'filter', 'filter: unknown entity "metrics" at position 0; expected one of attributes, attribute, attr, tags, tag'],
    ['experiment_id = 1', 'filter', 'filter: unknown attribute "experiment_id" at position 0; expected one of name, creation_time, last_update_time'],
    ["name IN ('a')", 'filter', 'filter: operator IN is not allowed for attribute "name" at position 5; expected one of =, !=, LIKE, ILIKE'],
    ["creation_time > 'yesterday'", 'filter', `filter: expected an integer (milliseconds since the epoch) for attribute "creation_time" at position 16, found "'yesterday'"`],
  ])('refuses the filter %s naming the position', async (filter, field, message) => {
    const error = await rejection({ filter });
    expect([error.field, error.message]).toEqual([field, message]);
  });

  it('answers a filter of 100 comparisons, the most it takes', async () => {
    expect(await idsOf(Array.from({ length: 100 }, () => "tags.team = 'risk'").join(' and '))).toEqual([1]);
  });

  it.each([
    [1000, 'filter: has more than 100 comparisons (comparison 101 starts at position 1500); the limit is 100'],
    [5000, 'filter: is 74995 characters; the limit is 65536'],
  ])('refuses a filter of %d comparisons with INVALID_ARGUMENT naming the limit', async (count, message) => {
    const error = await rejection({ filter: Array.from({ length: count }, () => "tags.a='x'").join(' AND ') });
    expect([error.field, error.message]).toEqual(['filter', message]);
  });

  it('refuses ordering by tags or an unknown attribute', async () => {
    expect((await rejection({ orderBy: ['tags.team'] })).message).toBe('order_by: ordering by tags is not supported (position 0); expected attributes');
    expect((await rejection({ orderBy: ['start_time'] })).message).toBe(
      'order_by: unknown attribute "start_time" at position 0; expected one of name, creation_time, last_update_time, experiment_id',
    );
  });

  it.each([-1, 1001])('refuses page_size %d', async (pageSize) => {
    expect((await rejection({ pageSize })).field).toBe('page_size');
  });
});

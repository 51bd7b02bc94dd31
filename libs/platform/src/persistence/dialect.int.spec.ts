import { createTestDatabase, testSqliteDatabase, type TestDatabase } from '@trellis/testing';
import type { DataSource } from 'typeorm';
import type { DatabaseConfig } from './database-config';
import { Dialect, tableOf } from './dialect';
import { openDatabase } from './open-database';
import { WidgetRow, widgetTables } from './test-fixtures/widgets';

const engines: Array<[string, () => Promise<TestDatabase<DatabaseConfig>>]> = [
  ['SQLite', async () => testSqliteDatabase()],
  ['PostgreSQL', () => createTestDatabase()],
];

describe.each(engines)('Dialect on %s', (_engine, makeDatabase) => {
  let database: TestDatabase<DatabaseConfig>;
  let dataSource: DataSource;
  let dialect: Dialect;
  let widgets: string;

  const insert = async (rows: Array<[string, string, number]>) => {
    const sql = dialect.upsert(widgets, ['id', 'name', 'size'], rows.length, ['id']);
    await dataSource.query(sql, rows.flat());
  };
  const names = async (where: (bind: ReturnType<Dialect['parameters']>) => string): Promise<string[]> => {
    const parameters = dialect.parameters();
    const condition = where(parameters);
    const rows = (await dataSource.query(`SELECT name FROM ${widgets} WHERE ${condition} ORDER BY name`, parameters.values)) as Array<{ name: string }>;
    return rows.map((row) => row.name);
  };

  beforeAll(async () => {
    database = await makeDatabase();
    dataSource = await openDatabase({ service: 'kit-test', database: database.config, ...widgetTables });
    dialect = Dialect.of(dataSource);
    widgets = tableOf(dataSource, WidgetRow);
    await insert([
      ['w1', 'Alpha', 3],
      ['w2', 'alpha_2', 5],
      ['w3', 'beta%', 7],
    ]);
  });

  afterAll(async () => {
    await dataSource.destroy();
    await database.drop();
  });

  it('is the same dialect whether asked of the data source, a manager or a query runner', () => {
    const runner = dataSource.createQueryRunner();
    expect([Dialect.of(dataSource.manager), Dialect.of(runner)]).toEqual([dialect, dialect]);
    return runner.release();
  });

  it('matches LIKE patterns case-sensitively, with escaped wildcards taken literally', async () => {
    expect(await names((p) => p.like('name', 'alpha%'))).toEqual(['alpha_2']);
    expect(await names((p) => p.like('name', 'alpha\\_%'))).toEqual(['alpha_2']);
    expect(await names((p) => p.like('name', '%\\%'))).toEqual(['beta%']);
  });

  it('matches ILIKE patterns ignoring case', async () => {
    expect(await names((p) => p.ilike('name', 'ALPHA%'))).toEqual(['Alpha', 'alpha_2']);
  });

  it('binds a whole list as one parameter, in and not in', async () => {
    expect(await names((p) => p.inList('id', ['w1', 'w3']))).toEqual(['Alpha', 'beta%']);
    expect(await names((p) => p.inList('id', ['w1', 'w3'], true))).toEqual(['alpha_2']);
  });

  it('upserts: a conflicting row keeps or merges by the updates given', async () => {
    await insert([['w1', 'ignored', 100]]);
    const merge = dialect.upsert(widgets, ['id', 'name', 'size'], 1, ['id'], [`size = ${dialect.greatest(`${widgets}.size`, 'excluded.size')}`]);
    await dataSource.query(merge, ['w2', 'ignored', 1]);
    await dataSource.query(merge, ['w3', 'ignored', 70]);
    const rows = (await dataSource.query(`SELECT id, name, size FROM ${widgets} ORDER BY id`)) as Array<{ id: string; name: string; size: string | number }>;
    expect(rows.map((row) => [row.id, row.name, Number(row.size)])).toEqual([
      ['w1', 'Alpha', 3],
      ['w2', 'alpha_2', 5],
      ['w3', 'beta%', 70],
    ]);
  });

  it('aggregates a group into one JSON array', async () => {
    const ordered = dialect.isPostgres ? widgets : `(SELECT * FROM ${widgets} ORDER BY name)`;
    const [row] = (await dataSource.query(`SELECT ${dialect.jsonArrayAgg(dialect.jsonArray('id', 'name'), 'name')} AS pairs FROM ${ordered} AS w`)) as Array<{ pairs: string }>;
    expect(JSON.parse(row.pairs)).toEqual([
      ['w1', 'Alpha'],
      ['w2', 'alpha_2'],
      ['w3', 'beta%'],
    ]);
  });

  it('computes LEAST and GREATEST of two values', async () => {
    const [row] = (await dataSource.query(`SELECT ${dialect.least('2', '5')} AS low, ${dialect.greatest('2', '5')} AS high`)) as Array<{ low: number; high: number }>;
    expect([Number(row.low), Number(row.high)]).toEqual([2, 5]);
  });

  it('binds more ids than SQLite takes parameters in one statement', async () => {
    const ids = Array.from({ length: 50_000 }, (_, index) => `w${index}`);
    expect(await names((p) => p.inList('id', ids))).toEqual(['Alpha', 'alpha_2', 'beta%']);
  });

  it('compares and orders floats with NaN above every number, though SQLite stores NaN as NULL', async () => {
    await dataSource.query('CREATE TABLE kit_floats (id integer PRIMARY KEY, a double precision, b double precision)');
    const rows = [[1, 1, 2], [2, 2, 1], [3, 1, Number.NaN], [4, Number.NaN, 1], [5, Number.NaN, Number.NaN]];
    for (const row of rows) await dataSource.query(`INSERT INTO kit_floats (id, a, b) VALUES (${[1, 2, 3].map((i) => dialect.placeholder(i)).join(', ')})`, row);
    const ids = async (sql: string) => ((await dataSource.query(sql)) as Array<{ id: number | string }>).map((row) => Number(row.id));
    const where = (condition: string) => ids(`SELECT id FROM kit_floats WHERE ${condition} ORDER BY id`);
    expect(await where(dialect.floatBelow('a', 'b'))).toEqual([1, 3]);
    expect(await where(dialect.floatAbove('a', 'b'))).toEqual([2, 4]);
    expect(await where(dialect.isNumber('a'))).toEqual([1, 2, 3]);
    // Row 6 has no floats row: it comes after the NaNs either way.
    const ordered = (ascending: boolean) =>
      ids(`SELECT s.id FROM (SELECT id FROM kit_floats UNION ALL SELECT 6) s LEFT JOIN kit_floats f ON f.id = s.id
           ORDER BY ${dialect.nanLastOrder('f.a', ascending, 'f.id IS NULL')}, s.id`);
    expect(await ordered(true)).toEqual([1, 3, 2, 4, 5, 6]);
    expect(await ordered(false)).toEqual([2, 1, 3, 4, 5, 6]);
  });

  it('aggregates each group into one JSON array in order, from a source ordered where the dialect needs it', async () => {
    const source = dialect.aggregateInput(`SELECT name, CASE WHEN size < 10 THEN 'small' ELSE 'big' END AS band FROM ${widgets}`, 'band, name');
    const rows = (await dataSource.query(`SELECT band, ${dialect.jsonArrayAgg('name', 'name')} AS names FROM ${source} AS w GROUP BY band ORDER BY band`)) as Array<{
      band: string;
      names: string;
    }>;
    expect(rows.map((row) => [row.band, JSON.parse(row.names)])).toEqual([
      ['big', ['beta%']],
      ['small', ['Alpha', 'alpha_2']],
    ]);
  });

  it('is the same dialect by name as of a connection', () => {
    expect(Dialect.named(dialect.name)).toBe(dialect);
  });

  it('reads a row for update inside a transaction', async () => {
    const row = await dataSource.transaction((manager) => manager.findOne(WidgetRow, { where: { id: 'w2' }, ...Dialect.of(manager).lockForUpdate<WidgetRow>() }));
    expect(row?.name).toBe('alpha_2');
  });
});

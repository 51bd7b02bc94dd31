import type { DataSource } from 'typeorm';
import { openDatabase } from './open-database';
import { sqliteColumn } from './sqlite-integers';
import { WidgetRow, widgetTables } from './test-fixtures/widgets';

describe('reading integers on a SQLite DataSource', () => {
  let dataSource: DataSource;

  beforeAll(async () => {
    dataSource = await openDatabase({ service: 'kit-test', database: { type: 'sqlite', path: ':memory:' }, ...widgetTables });
    await dataSource.transaction((m) =>
      m.getRepository(WidgetRow).insert([
        { id: 'a', name: 'one', size: '3' },
        { id: 'b', name: 'two', size: '-9007199254740991' },
        { id: 'c', name: 'three', size: '9007199254740991' },
      ]),
    );
  });

  afterAll(() => dataSource.destroy());

  it('reads a column as one array in row order, integers as plain numbers', async () => {
    const sizes = await dataSource.transaction(async (m) => sqliteColumn(m, 'SELECT size FROM kit_widgets WHERE id >= ? ORDER BY id', ['a']));
    expect(sizes).toEqual([3, -9007199254740991, 9007199254740991]);
    expect(await dataSource.transaction(async (m) => sqliteColumn(m, 'SELECT name FROM kit_widgets ORDER BY id DESC', []))).toEqual(['three', 'two', 'one']);
  });

  it('leaves every other read exact', async () => {
    await dataSource.transaction((m) => m.getRepository(WidgetRow).insert({ id: 'd', name: 'big', size: '9007199254740993' }));
    await dataSource.transaction(async (m) => sqliteColumn(m, 'SELECT size FROM kit_widgets', []));
    expect(await dataSource.getRepository(WidgetRow).findOneBy({ id: 'd' })).toEqual({ id: 'd', name: 'big', size: '9007199254740993' });
    expect(await dataSource.query('SELECT size FROM kit_widgets WHERE id = ?', ['d'])).toEqual([{ size: '9007199254740993' }]);
  });
});

import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource } from 'typeorm';
import { openDatabase } from './open-database';
import { WidgetRow, widgetTables } from './test-fixtures/widgets';

describe('transactions on a SQLite DataSource', () => {
  let dataSource: DataSource;

  beforeEach(async () => {
    dataSource = await openDatabase({ service: 'kit-test', database: { type: 'sqlite', path: ':memory:' }, ...widgetTables });
  });

  afterEach(async () => {
    await dataSource.destroy();
  });

  const widget = (id: string) => ({ id, name: id, size: '1' });

  it('keeps concurrent transactions apart: a rollback undoes only its own writes', async () => {
    const committing = dataSource.transaction(async (manager) => {
      await manager.insert(WidgetRow, widget('kept'));
      await sleep(20);
    });
    const failing = dataSource.transaction(async (manager) => {
      await manager.insert(WidgetRow, widget('undone'));
      throw new Error('handler failed');
    });

    await expect(failing).rejects.toThrow('handler failed');
    await committing;
    expect((await dataSource.getRepository(WidgetRow).find()).map((row) => row.id)).toEqual(['kept']);
  });

  it('lets a transaction started inside another one nest instead of waiting for it', async () => {
    await dataSource.transaction(async (outer) => {
      await outer.insert(WidgetRow, widget('outer'));
      await dataSource
        .transaction(async (inner) => {
          await inner.insert(WidgetRow, widget('inner'));
          throw new Error('inner failed');
        })
        .catch(() => undefined);
    });

    expect((await dataSource.getRepository(WidgetRow).find()).map((row) => row.id)).toEqual(['outer']);
  });

  it('still nests a transaction started inside another one after earlier transactions ended', async () => {
    await dataSource.transaction((manager) => manager.insert(WidgetRow, widget('first')));
    await dataSource.transaction(async (outer) => {
      await outer.insert(WidgetRow, widget('outer'));
      await dataSource.transaction((inner) => inner.insert(WidgetRow, widget('inner')));
    });

    expect((await dataSource.getRepository(WidgetRow).find()).map((row) => row.id).sort()).toEqual(['first', 'inner', 'outer']);
  });
});

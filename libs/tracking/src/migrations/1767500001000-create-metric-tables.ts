import { Dialect } from '@trellis/platform';
import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Metric series, their points and rollups of the points; the same migration runs on SQLite and
 * PostgreSQL. A point's `seq` is its position in its series in logged order. SQLite cannot store
 * NaN: its value columns are nullable and NULL stands for NaN there.
 */
export class CreateMetricTables1767500001000 implements MigrationInterface {
  name = 'CreateMetricTables1767500001000';

  async up(runner: QueryRunner): Promise<void> {
    const { isPostgres } = Dialect.of(runner);
    const value = (name: string) => ({ name, type: 'double precision', isNullable: !isPostgres });
    const bigint = (name: string) => ({ name, type: 'bigint' });
    await runner.createTable(
      new Table({
        name: 'metric_series',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'run_id', type: 'varchar', length: '32' },
          { name: 'key', type: 'varchar', length: '250' },
          bigint('point_count'),
          value('latest_value'),
          bigint('latest_step'),
          bigint('latest_timestamp'),
          bigint('max_step'),
          // Whether steps never decreased in logged order: then a step range is a range of seq.
          { name: 'monotonic', type: 'boolean' },
        ],
        foreignKeys: [{ columnNames: ['run_id'], referencedTableName: 'runs', referencedColumnNames: ['id'], onDelete: 'CASCADE' }],
        uniques: [{ name: 'metric_series_run_key', columnNames: ['run_id', 'key'] }],
        // run_id too: metric filters and orderings of a search then read the index only.
        indices: [{ name: 'metric_series_key_latest', columnNames: ['key', 'latest_value', 'run_id'] }],
      }),
    );
    // Only the primary key, and no foreign key: on PostgreSQL the per-row check alone cost a third
    // of ingest. The trigger below removes a series' points and rollups with it.
    await runner.createTable(
      new Table({
        name: 'metric_points',
        columns: [
          { name: 'series_id', type: 'integer', isPrimary: true },
          { name: 'seq', type: 'bigint', isPrimary: true },
          bigint('step'),
          bigint('timestamp'),
          value('value'),
        ],
        withoutRowid: true,
      }),
    );
    // One row per series, level and block of consecutive seq (64, 1024 or 16384 of them by level):
    // its lowest and highest point (NaN counts as highest; of equal values the first logged), and
    // its first and last step.
    await runner.createTable(
      new Table({
        name: 'metric_rollups',
        columns: [
          { name: 'series_id', type: 'integer', isPrimary: true },
          { name: 'level', type: 'integer', isPrimary: true },
          { name: 'block', type: 'bigint', isPrimary: true },
          { name: 'count', type: 'integer' },
          value('min_value'),
          bigint('min_seq'),
          bigint('min_step'),
          bigint('min_timestamp'),
          value('max_value'),
          bigint('max_seq'),
          bigint('max_step'),
          bigint('max_timestamp'),
          bigint('first_step'),
          bigint('last_step'),
        ],
        withoutRowid: true,
      }),
    );
    if (isPostgres) {
      await runner.query(`CREATE FUNCTION metric_series_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          DELETE FROM metric_points WHERE series_id = OLD.id;
          DELETE FROM metric_rollups WHERE series_id = OLD.id;
          RETURN OLD;
        END $$`);
      await runner.query('CREATE TRIGGER metric_series_deleted AFTER DELETE ON metric_series FOR EACH ROW EXECUTE FUNCTION metric_series_deleted()');
    } else {
      await runner.query(`CREATE TRIGGER metric_series_deleted AFTER DELETE ON metric_series FOR EACH ROW BEGIN
        DELETE FROM metric_points WHERE series_id = OLD.id;
        DELETE FROM metric_rollups WHERE series_id = OLD.id;
      END`);
    }
  }

  async down(runner: QueryRunner): Promise<void> {
    const { isPostgres } = Dialect.of(runner);
    await runner.query('DROP TRIGGER metric_series_deleted' + (isPostgres ? ' ON metric_series' : ''));
    if (isPostgres) await runner.query('DROP FUNCTION metric_series_deleted()');
    for (const table of ['metric_rollups', 'metric_points', 'metric_series']) await runner.dropTable(table);
  }
}

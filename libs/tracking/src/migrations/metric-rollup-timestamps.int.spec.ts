import { openDatabase } from '@trellis/platform';
import { createTestDatabase, testSqliteDatabase, type TestDatabase } from '@trellis/testing';
import type { DataSource } from 'typeorm';
import { METRIC_ENTITIES } from '../metrics/metric.entity';
import { MetricRepository, type MetricPoint } from '../metrics/metric.repository';
import { RunEntity } from '../runs/run.entity';
import { CreateTrackingTables1767500000000 } from './1767500000000-create-tracking-tables';
import { CreateMetricTables1767500001000 } from './1767500001000-create-metric-tables';
import { MetricRollupTimestamps1767700000000 } from './1767700000000-metric-rollup-timestamps';

describe.each(['postgres', 'sqlite'] as const)('MetricRollupTimestamps1767700000000 on %s', (kind) => {
  let database: TestDatabase<unknown>;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = kind === 'postgres' ? await createTestDatabase() : testSqliteDatabase();
    dataSource = await openDatabase({
      service: 'tracking',
      database: database.config as { type: 'postgres'; url: string } | { type: 'sqlite'; path: string },
      entities: [RunEntity, ...METRIC_ENTITIES],
      migrations: [CreateTrackingTables1767500000000, CreateMetricTables1767500001000, MetricRollupTimestamps1767700000000],
    });
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  const query = (sql: string, params: unknown[] = []) => {
    let n = 0;
    return dataSource.query(kind === 'postgres' ? sql.replace(/\?/g, () => `$${++n}`) : sql, params) as Promise<Array<Record<string, unknown>>>;
  };
  const spans = async () =>
    (await query('SELECT series_id, level, block, earliest_timestamp, latest_timestamp FROM metric_rollups ORDER BY series_id, level, block')).map((row) =>
      Object.values(row).map(Number),
    );

  it('gives the rollups of points stored before it their timestamp spans, as ingest does, so a batch of them sent again is stored once', async () => {
    const runId = 'r'.repeat(32);
    await query(`INSERT INTO experiments (project_id, name, artifact_location, lifecycle_stage, created_at, updated_at) VALUES ('p1', 'e', '', 'active', 0, 0)`);
    await query(
      `INSERT INTO runs (id, experiment_id, project_id, name, user_id, status, start_time, artifact_uri, artifact_store, lifecycle_stage)
       VALUES (?, 1, 'p1', 'r', 'alice', 'RUNNING', 0, '', 'default', 'active')`,
      [runId],
    );
    // Timestamps that go back now and then, so a block's first and last point do not make its span.
    const batch: MetricPoint[] = Array.from({ length: 3000 }, (_, i) => ({
      key: i % 3 ? 'loss' : 'acc',
      step: i,
      timestampMs: 1_767_000_000_000 + i * 10 - (i % 7 === 0 ? 5_000 : 0),
      value: i / 7,
    }));
    const store = new MetricRepository(dataSource);
    await dataSource.transaction((m) => store.append(m, runId, batch));
    const fromIngest = await spans();

    const runner = dataSource.createQueryRunner();
    try {
      await new MetricRollupTimestamps1767700000000().down(runner);
      await new MetricRollupTimestamps1767700000000().up(runner);
    } finally {
      await runner.release();
    }

    expect(await spans()).toEqual(fromIngest);
    await dataSource.transaction((m) => store.append(m, runId, batch));
    const [{ points }] = await query('SELECT count(*) AS points FROM metric_points');
    expect(Number(points)).toBe(3000);
  });
});

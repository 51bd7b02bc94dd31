import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Rollup levels and their block sizes, as this migration found them (metric-sampling's ROLLUP_SIZES). */
const LEVEL_SIZES = [64, 1024, 16384];

/**
 * The lowest and highest timestamp of each rollup block, so an append can find the few blocks that
 * may hold a point it is given again (same step, timestamp and value) without an index on every
 * point. Filled in for the points already stored; points stored twice before stay.
 */
export class MetricRollupTimestamps1767700000000 implements MigrationInterface {
  name = 'MetricRollupTimestamps1767700000000';

  async up(runner: QueryRunner): Promise<void> {
    for (const column of ['earliest_timestamp', 'latest_timestamp']) {
      await runner.query(`ALTER TABLE metric_rollups ADD COLUMN ${column} bigint NOT NULL DEFAULT 0`);
    }
    for (const [level, size] of LEVEL_SIZES.entries()) {
      await runner.query(
        `UPDATE metric_rollups AS r SET earliest_timestamp = a.lo, latest_timestamp = a.hi
         FROM (SELECT series_id, seq / ${size} AS block, min("timestamp") AS lo, max("timestamp") AS hi FROM metric_points GROUP BY series_id, seq / ${size}) AS a
         WHERE r.level = ${level} AND r.series_id = a.series_id AND r.block = a.block`,
      );
    }
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const column of ['earliest_timestamp', 'latest_timestamp']) await runner.query(`ALTER TABLE metric_rollups DROP COLUMN ${column}`);
  }
}

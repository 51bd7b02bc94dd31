import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The drift guard of progressive rollout: a policy names the monitor whose dataset drift rolls a
 * canary back, and a rollout keeps why that monitor condemned its canary until the worker acts on
 * it. Policies and rollouts older than the columns have none (''). A plain ADD COLUMN on both
 * databases: SQLite would otherwise rebuild `rollouts`, which the canary reports reference.
 */
export class AddRolloutDriftGuard1796520000000 implements MigrationInterface {
  name = 'AddRolloutDriftGuard1796520000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query("ALTER TABLE rollout_policies ADD COLUMN drift_monitor varchar(128) NOT NULL DEFAULT ''");
    await runner.query("ALTER TABLE rollouts ADD COLUMN drift_finding text NOT NULL DEFAULT ''");
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE rollouts DROP COLUMN drift_finding');
    await runner.query('ALTER TABLE rollout_policies DROP COLUMN drift_monitor');
  }
}

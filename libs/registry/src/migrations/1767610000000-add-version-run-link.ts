import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each version keeps the run_link its creator gave, as MLflow answers it back; versions made before
 * have none. A plain ADD COLUMN on both databases: SQLite then keeps the table (and its tags) as it is.
 */
export class AddVersionRunLink1767610000000 implements MigrationInterface {
  name = 'AddVersionRunLink1767610000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE model_versions ADD COLUMN run_link text NOT NULL DEFAULT ''`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE model_versions DROP COLUMN run_link');
  }
}

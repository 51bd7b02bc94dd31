import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each run records, when it is created, the KMS instance that encrypts its artifacts (its project
 * asked for encryption at rest), and keeps it for life; null: stored in the clear, as every run
 * made before this migration was.
 */
export class AddRunArtifactKms1767800000000 implements MigrationInterface {
  name = 'AddRunArtifactKms1767800000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE runs ADD COLUMN artifact_kms varchar(64)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE runs DROP COLUMN artifact_kms');
  }
}

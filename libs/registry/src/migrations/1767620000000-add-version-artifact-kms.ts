import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each version with a copy records, when it is created, the KMS instance that encrypts the copy
 * (its project asked for encryption at rest, or it copies an encrypted version), and keeps it for
 * life; null: stored in the clear, as every copy made before this migration was.
 */
export class AddVersionArtifactKms1767620000000 implements MigrationInterface {
  name = 'AddVersionArtifactKms1767620000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE model_versions ADD COLUMN artifact_kms varchar(64)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE model_versions DROP COLUMN artifact_kms');
  }
}

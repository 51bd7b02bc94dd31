import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each principal gets an access version, raised whenever one of its roles is reduced; tokens carry
 * the version they were issued at, so older ones can be refused. Existing principals start at 0.
 * A plain ADD COLUMN on both databases.
 */
export class AddPrincipalAccessVersion1767450000000 implements MigrationInterface {
  name = 'AddPrincipalAccessVersion1767450000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE principals ADD COLUMN access_version integer NOT NULL DEFAULT 0');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE principals DROP COLUMN access_version');
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';
import { AUDIT_RECORDS_TABLE } from '../audit/audit.entity';
import { tablePath } from './append-only';

/**
 * Audit records name the user a service account acted for (`on_behalf_of`). Existing rows get ''
 * from the column's default, without an UPDATE (which the append-only triggers refuse), and their
 * hashes still verify: the canonical form adds the field only when it is not empty.
 */
export class AddAuditOnBehalfOf1767480000000 implements MigrationInterface {
  name = 'AddAuditOnBehalfOf1767480000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE ${tablePath(runner, AUDIT_RECORDS_TABLE)} ADD COLUMN on_behalf_of text NOT NULL DEFAULT ''`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE ${tablePath(runner, AUDIT_RECORDS_TABLE)} DROP COLUMN on_behalf_of`);
  }
}

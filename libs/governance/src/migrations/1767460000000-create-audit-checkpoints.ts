import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';
import { AUDIT_CHECKPOINTS_TABLE } from '../audit/audit.entity';
import { appendOnlyTriggers, dropAppendOnly } from './append-only';

/** Creates `audit_checkpoints`, append-only like `audit_records`. Runs on SQLite and PostgreSQL. */
export class CreateAuditCheckpoints1767460000000 implements MigrationInterface {
  name = 'CreateAuditCheckpoints1767460000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(
      new Table({
        name: AUDIT_CHECKPOINTS_TABLE,
        columns: [
          { name: 'number', type: 'bigint', isPrimary: true },
          { name: 'sequence', type: 'bigint' },
          { name: 'head_hash', type: 'varchar', length: '64' },
          { name: 'created_at_us', type: 'bigint' },
          { name: 'key_id', type: 'text' },
          { name: 'mac', type: 'text' },
        ],
      }),
    );
    for (const statement of appendOnlyTriggers(runner, AUDIT_CHECKPOINTS_TABLE)) await runner.query(statement);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable(AUDIT_CHECKPOINTS_TABLE);
    await dropAppendOnly(runner, AUDIT_CHECKPOINTS_TABLE);
  }
}

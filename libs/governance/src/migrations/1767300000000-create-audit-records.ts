import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { GENESIS_HASH } from '../audit/canonical';
import { AUDIT_CHAIN_HEAD_TABLE, AUDIT_RECORDS_TABLE } from '../audit/audit.entity';
import { appendOnlyTriggers, dropAppendOnly, tablePath } from './append-only';

/**
 * Creates the audit chain: `audit_records` (append-only: triggers refuse UPDATE, DELETE and, on
 * PostgreSQL, TRUNCATE) and `audit_chain_head`, seeded with sequence 0 and the genesis hash.
 * Runs on SQLite and PostgreSQL.
 */
export class CreateAuditRecords1767300000000 implements MigrationInterface {
  name = 'CreateAuditRecords1767300000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(
      new Table({
        name: AUDIT_RECORDS_TABLE,
        columns: [
          { name: 'sequence', type: 'bigint', isPrimary: true },
          { name: 'event_id', type: 'varchar', isUnique: true },
          ...['service', 'actor', 'action', 'method', 'resource', 'project_id', 'outcome', 'reason', 'request_id'].map((name) => ({ name, type: 'text' })),
          { name: 'occurred_at_us', type: 'bigint' },
          { name: 'client_address', type: 'text' },
          { name: 'previous_hash', type: 'varchar', length: '64' },
          { name: 'hash', type: 'varchar', length: '64' },
        ],
        indices: [
          new TableIndex({ name: 'audit_records_project', columnNames: ['project_id', 'sequence'] }),
          new TableIndex({ name: 'audit_records_actor', columnNames: ['actor', 'sequence'] }),
          new TableIndex({ name: 'audit_records_occurred_at', columnNames: ['occurred_at_us'] }),
        ],
      }),
    );
    await runner.createTable(
      new Table({
        name: AUDIT_CHAIN_HEAD_TABLE,
        columns: [
          { name: 'id', type: 'integer', isPrimary: true },
          { name: 'sequence', type: 'bigint' },
          { name: 'hash', type: 'varchar', length: '64' },
        ],
      }),
    );
    const head = tablePath(runner, AUDIT_CHAIN_HEAD_TABLE);
    await runner.query(`INSERT INTO ${head} (id, sequence, hash) VALUES (1, 0, '${GENESIS_HASH}')`);
    for (const statement of appendOnlyTriggers(runner, AUDIT_RECORDS_TABLE)) await runner.query(statement);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable(AUDIT_CHAIN_HEAD_TABLE);
    await runner.dropTable(AUDIT_RECORDS_TABLE);
    await dropAppendOnly(runner, AUDIT_RECORDS_TABLE);
  }
}

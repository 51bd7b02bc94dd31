import { Dialect } from '@trellis/platform';
import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Creates the approvals table; the same migration runs on SQLite and PostgreSQL. */
export class CreateApprovals1767400000000 implements MigrationInterface {
  name = 'CreateApprovals1767400000000';

  async up(runner: QueryRunner): Promise<void> {
    const time = Dialect.of(runner).timestampType;
    await runner.createTable(
      new Table({
        name: 'approvals',
        columns: [
          { name: 'seq', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'id', type: 'varchar', length: '36', isUnique: true },
          { name: 'project_id', type: 'varchar', length: '64' },
          { name: 'action', type: 'varchar', length: '128' },
          { name: 'resource', type: 'varchar', length: '512' },
          { name: 'details', type: 'text' },
          { name: 'requester_id', type: 'text' },
          { name: 'state', type: 'varchar', length: '16' },
          { name: 'decider_id', type: 'text', isNullable: true },
          { name: 'comment', type: 'text', isNullable: true },
          { name: 'created_at', type: time },
          { name: 'decided_at', type: time, isNullable: true },
        ],
        indices: [
          { name: 'approvals_project_seq', columnNames: ['project_id', 'seq'] },
          { name: 'approvals_project_state_seq', columnNames: ['project_id', 'state', 'seq'] },
        ],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('approvals');
  }
}

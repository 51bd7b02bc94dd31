import { Dialect } from '@trellis/platform';
import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Alert rules, their alerts and the deliveries of alert changes to notifier instances. Times are
 * milliseconds since the epoch; rule names compare byte by byte on both databases, as monitors' do.
 */
export class CreateAlertTables1796476600000 implements MigrationInterface {
  name = 'CreateAlertTables1796476600000';

  async up(runner: QueryRunner): Promise<void> {
    const collation = Dialect.of(runner).binaryCollation;
    await runner.createTable(
      new Table({
        name: 'alert_rules',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'monitor_id', type: 'varchar', length: '36' },
          { name: 'project_id', type: 'varchar', length: '64' },
          { name: 'name', type: 'varchar', length: '128', collation },
          { name: 'condition', type: 'text' },
          { name: 'for_seconds', type: 'bigint' },
          { name: 'severity', type: 'varchar', length: '16' },
          { name: 'notifiers', type: 'text' },
          { name: 'created_at', type: 'bigint' },
        ],
        // Also the index ListAlertRules reads a monitor's rules through, in name order.
        uniques: [{ name: 'alert_rules_monitor_name', columnNames: ['monitor_id', 'name'] }],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'alerts',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'rule_id', type: 'varchar', length: '36' },
          { name: 'rule_name', type: 'varchar', length: '128' },
          { name: 'monitor_id', type: 'varchar', length: '36' },
          { name: 'project_id', type: 'varchar', length: '64' },
          { name: 'state', type: 'varchar', length: '16' },
          { name: 'open_rule_id', type: 'varchar', length: '36', isNullable: true },
          { name: 'severity', type: 'varchar', length: '16' },
          { name: 'pending_at', type: 'bigint' },
          { name: 'firing_at', type: 'bigint', isNullable: true },
          { name: 'resolved_at', type: 'bigint', isNullable: true },
          { name: 'value', type: 'double precision' },
          { name: 'window_number', type: 'bigint' },
          { name: 'summary', type: 'text' },
        ],
        // One open alert per rule: resolved alerts hold NULL, which a unique index lets repeat on both databases.
        uniques: [{ name: 'alerts_open_rule', columnNames: ['open_rule_id'] }],
        // ListAlerts: a project's alerts newest first; deleting a monitor removes its own.
        indices: [
          { name: 'alerts_project_newest', columnNames: ['project_id', 'pending_at', 'id'] },
          { name: 'alerts_monitor', columnNames: ['monitor_id'] },
        ],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'alert_deliveries',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'alert_id', type: 'varchar', length: '36' },
          { name: 'monitor_id', type: 'varchar', length: '36' },
          { name: 'notifier', type: 'varchar', length: '128' },
          { name: 'state', type: 'varchar', length: '16' },
          { name: 'payload', type: 'text' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'attempts', type: 'integer' },
          { name: 'next_attempt_at', type: 'bigint' },
          { name: 'last_error', type: 'text' },
          { name: 'created_at', type: 'bigint' },
          { name: 'delivered_at', type: 'bigint', isNullable: true },
        ],
        // The delivery worker reads the due ones; deleting a monitor removes its own.
        indices: [
          { name: 'alert_deliveries_due', columnNames: ['status', 'next_attempt_at'] },
          { name: 'alert_deliveries_alert', columnNames: ['alert_id'] },
          { name: 'alert_deliveries_monitor', columnNames: ['monitor_id'] },
        ],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('alert_deliveries');
    await runner.dropTable('alerts');
    await runner.dropTable('alert_rules');
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';
import { Dialect } from '../persistence/dialect';

/** The instances a service's API created, one row each; a kit table in every service that declares plugins. */
export const PLUGIN_INSTANCES_TABLE = 'trellis_plugin_instances';

/** Which instance of each kind each project uses, where it chose one. */
export const PLUGIN_CHOICES_TABLE = 'trellis_plugin_choices';

/**
 * Creates the kit's plugin instance tables. The kit adds it to the migrations of every service
 * whose definition declares `plugins`; runs on SQLite and PostgreSQL (in the configured schema).
 */
export class CreatePluginInstanceTables1767850000000 implements MigrationInterface {
  name = 'CreatePluginInstanceTables1767850000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const dialect = Dialect.of(queryRunner);
    const text = dialect.binaryCollation ? `text COLLATE "${dialect.binaryCollation}"` : 'text';
    await queryRunner.query(
      `CREATE TABLE ${tablePath(queryRunner, PLUGIN_INSTANCES_TABLE)} (
        kind ${text} NOT NULL,
        name ${text} NOT NULL,
        plugin text NOT NULL,
        config text NOT NULL,
        create_time ${dialect.timestampType} NOT NULL,
        creator text NOT NULL,
        PRIMARY KEY (kind, name)
      )`,
    );
    await queryRunner.query(
      `CREATE TABLE ${tablePath(queryRunner, PLUGIN_CHOICES_TABLE)} (
        project_id text NOT NULL,
        kind text NOT NULL,
        instance ${text} NOT NULL,
        update_time ${dialect.timestampType} NOT NULL,
        PRIMARY KEY (project_id, kind)
      )`,
    );
    await queryRunner.query(`CREATE INDEX ${PLUGIN_CHOICES_TABLE}_instance ON ${tablePath(queryRunner, PLUGIN_CHOICES_TABLE)} (kind, instance)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE ${tablePath(queryRunner, PLUGIN_CHOICES_TABLE)}`);
    await queryRunner.query(`DROP TABLE ${tablePath(queryRunner, PLUGIN_INSTANCES_TABLE)}`);
  }
}

function tablePath(queryRunner: QueryRunner, table: string): string {
  const { options, driver } = queryRunner.connection;
  const schema = options.type === 'postgres' ? options.schema : undefined;
  return schema ? `${driver.escape(schema)}.${driver.escape(table)}` : driver.escape(table);
}

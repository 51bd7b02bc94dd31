import type { MigrationInterface, QueryRunner } from 'typeorm';
import { OUTBOX_TABLE, PROCESSED_EVENTS_TABLE } from '../kit-table-names';

/**
 * Creates the kit's outbox and processed-events (inbox) tables. Runs on SQLite and PostgreSQL;
 * on PostgreSQL the tables go into the configured schema, if any.
 */
export class CreateEventTables1767225600000 implements MigrationInterface {
  name = 'CreateEventTables1767225600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const outbox = tablePath(queryRunner, OUTBOX_TABLE);
    const inbox = tablePath(queryRunner, PROCESSED_EVENTS_TABLE);
    if (queryRunner.connection.options.type === 'postgres') {
      await queryRunner.query(
        `CREATE TABLE ${outbox} (
          seq bigserial PRIMARY KEY,
          id uuid NOT NULL UNIQUE,
          subject text NOT NULL,
          payload_type text NOT NULL,
          payload bytea NOT NULL,
          occurred_at timestamptz NOT NULL,
          request_id text,
          actor text,
          project_id text
        )`,
      );
      await queryRunner.query(
        `CREATE TABLE ${inbox} (
          consumer text NOT NULL,
          event_id text NOT NULL,
          processed_at timestamptz NOT NULL,
          PRIMARY KEY (consumer, event_id)
        )`,
      );
    } else {
      await queryRunner.query(
        `CREATE TABLE ${outbox} (
          seq integer PRIMARY KEY AUTOINCREMENT,
          id varchar NOT NULL UNIQUE,
          subject text NOT NULL,
          payload_type text NOT NULL,
          payload blob NOT NULL,
          occurred_at datetime NOT NULL,
          request_id text,
          actor text,
          project_id text
        )`,
      );
      await queryRunner.query(
        `CREATE TABLE ${inbox} (
          consumer text NOT NULL,
          event_id text NOT NULL,
          processed_at datetime NOT NULL,
          PRIMARY KEY (consumer, event_id)
        )`,
      );
    }
    await queryRunner.query(`CREATE INDEX ${PROCESSED_EVENTS_TABLE}_processed_at ON ${inbox} (processed_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE ${tablePath(queryRunner, PROCESSED_EVENTS_TABLE)}`);
    await queryRunner.query(`DROP TABLE ${tablePath(queryRunner, OUTBOX_TABLE)}`);
  }
}

function tablePath(queryRunner: QueryRunner, table: string): string {
  const { options, driver } = queryRunner.connection;
  const schema = options.type === 'postgres' ? options.schema : undefined;
  return schema ? `${driver.escape(schema)}.${driver.escape(table)}` : driver.escape(table);
}

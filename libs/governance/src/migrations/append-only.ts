import { Dialect } from '@trellis/platform';
import type { QueryRunner } from 'typeorm';

/**
 * The statements that make `table` append-only: triggers that refuse UPDATE and DELETE and, on
 * PostgreSQL, TRUNCATE (through the function `<table>_refuse_change`), each failing with
 * `<table> is append-only: <operation> refused`.
 */
export function appendOnlyTriggers(runner: QueryRunner, table: string): string[] {
  const path = tablePath(runner, table);
  if (Dialect.of(runner).isPostgres) {
    return [
      `CREATE FUNCTION ${table}_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION '${table} is append-only: % refused', TG_OP; END $$`,
      `CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${path}
       FOR EACH ROW EXECUTE FUNCTION ${table}_refuse_change()`,
      `CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${path}
       FOR EACH STATEMENT EXECUTE FUNCTION ${table}_refuse_change()`,
    ];
  }
  return ['UPDATE', 'DELETE'].map(
    (operation) =>
      `CREATE TRIGGER ${table}_no_${operation.toLowerCase()} BEFORE ${operation} ON ${path}
       BEGIN SELECT RAISE(ABORT, '${table} is append-only: ${operation} refused'); END`,
  );
}

/** Drops what {@link appendOnlyTriggers} created beyond the table's own triggers (run after dropping the table). */
export async function dropAppendOnly(runner: QueryRunner, table: string): Promise<void> {
  if (Dialect.of(runner).isPostgres) await runner.query(`DROP FUNCTION ${table}_refuse_change()`);
}

/** The escaped table name, schema-qualified on PostgreSQL when the connection names a schema. */
export function tablePath(runner: QueryRunner, table: string): string {
  const { options, driver } = runner.connection;
  // Only PostgreSQL's options name a schema.
  const schema = 'schema' in options ? options.schema : undefined;
  return schema ? `${driver.escape(schema)}.${driver.escape(table)}` : driver.escape(table);
}

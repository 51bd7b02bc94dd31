import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';

/** Whether `manager` talks to PostgreSQL (else SQLite). */
export function isPostgres(manager: EntityManager): boolean {
  return manager.connection.options.type === 'postgres';
}

/** The escaped, schema-qualified table of `entity`. */
export function tableOf(manager: EntityManager, entity: EntityTarget<ObjectLiteral>): string {
  const { driver } = manager.connection;
  const metadata = manager.connection.getMetadata(entity);
  const table = driver.escape(metadata.tableName);
  return metadata.schema ? `${driver.escape(metadata.schema)}.${table}` : table;
}

/** Bound parameters in the placeholder style of the engine: `$1` on PostgreSQL, `?` on SQLite. */
export class Params {
  readonly values: unknown[] = [];
  private readonly postgres: boolean;

  constructor(manager: EntityManager) {
    this.postgres = isPostgres(manager);
  }

  add(value: unknown): string {
    this.values.push(typeof value === 'bigint' && this.postgres ? value.toString() : value);
    return this.postgres ? `$${this.values.length}` : '?';
  }
}

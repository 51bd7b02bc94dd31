/**
 * Where a service keeps its data.
 *
 * - `sqlite`: one better-sqlite3 file per service (standalone mode); `path` is a file path, or
 *   `':memory:'` for a database that lives as long as its DataSource.
 * - `postgres`: a PostgreSQL database per service (distributed mode); `url` is a libpq-style
 *   connection URL, `schema` an optional schema that the service's tables live in (created if
 *   missing and put first on the search path).
 */
export type DatabaseConfig =
  | { type: 'sqlite'; path: string }
  | { type: 'postgres'; url: string; schema?: string };

/** The database engines a {@link DatabaseConfig} can name. */
export type DatabaseKind = DatabaseConfig['type'];

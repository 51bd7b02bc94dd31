import { QueryRunnerAlreadyReleasedError, QueryRunnerProviderAlreadyReleasedError } from 'typeorm';

/** SQLSTATEs of a PostgreSQL server that is shutting down, starting up or full (class 08, connection exceptions, too). */
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown: the connection was terminated (a restart, pg_terminate_backend)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up, shutting down, in recovery
  '53300', // too_many_connections
]);

/** Socket errors of a database server out of reach. */
const SOCKET_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** What node-postgres says, with no code, of a connection that broke or could not be had. */
const LOST_CONNECTION = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable)/;

/**
 * Whether a query failed because the database could not be used at that moment (a restart, a
 * server out of reach, SQLite busy past its timeout) rather than because of the query: a call
 * failing so may succeed when retried. Looks at the error and at the driver error TypeORM wraps.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  // TypeORM releases a query runner whose connection PostgreSQL terminated: the transaction's next
  // query throws one of these (which one depends on where the transaction was: its COMMIT throws the second).
  if (error instanceof QueryRunnerProviderAlreadyReleasedError || error instanceof QueryRunnerAlreadyReleasedError) return true;
  const wrapped = (error as { driverError?: unknown } | null)?.driverError;
  return [error, wrapped].some((candidate) => {
    if (typeof candidate !== 'object' || candidate === null) return false;
    const { code, message } = candidate as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && (code.startsWith('08') || UNAVAILABLE_SQLSTATES.has(code) || SOCKET_ERRORS.has(code) || code.startsWith('SQLITE_BUSY'))) {
      return true;
    }
    return typeof message === 'string' && LOST_CONNECTION.test(message);
  });
}

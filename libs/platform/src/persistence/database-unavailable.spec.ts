import { DatabaseError } from 'pg';
import { QueryFailedError, QueryRunnerAlreadyReleasedError, QueryRunnerProviderAlreadyReleasedError } from 'typeorm';
import { isDatabaseUnavailable } from './database-unavailable';

/** A query error as TypeORM throws it, wrapping what the driver threw. */
const failedQuery = (driverError: Error) => new QueryFailedError('INSERT INTO runs ...', [], driverError);
const withCode = (error: Error, code: string) => Object.assign(error, { code });
const postgresError = (message: string, code: string) => withCode(new DatabaseError(message, 0, 'error'), code);

describe('isDatabaseUnavailable', () => {
  it('recognises a PostgreSQL restart, a cut connection and a server out of reach, as node-postgres and TypeORM report them', () => {
    const unavailable = [
      new QueryRunnerProviderAlreadyReleasedError(),
      new QueryRunnerAlreadyReleasedError(),
      failedQuery(postgresError('terminating connection due to administrator command', '57P01')),
      failedQuery(postgresError('the database system is starting up', '57P03')),
      failedQuery(postgresError('the database system is shutting down', '57P03')),
      failedQuery(postgresError('sorry, too many clients already', '53300')),
      failedQuery(postgresError('connection failure', '08006')),
      failedQuery(new Error('Connection terminated unexpectedly')),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      withCode(new Error('connect ECONNREFUSED 127.0.0.1:5432'), 'ECONNREFUSED'),
      withCode(new Error('read ECONNRESET'), 'ECONNRESET'),
      failedQuery(withCode(new Error('database is locked'), 'SQLITE_BUSY')),
    ];
    expect(unavailable.filter((error) => !isDatabaseUnavailable(error)).map((error) => error.message)).toEqual([]);
  });

  it('leaves alone what retrying would not cure', () => {
    const other = [
      failedQuery(postgresError('duplicate key value violates unique constraint "runs_pkey"', '23505')),
      failedQuery(postgresError('relation "runs" does not exist', '42P01')),
      failedQuery(postgresError('invalid input syntax for type bigint: "x"', '22P02')),
      failedQuery(withCode(new Error('UNIQUE constraint failed: runs.id'), 'SQLITE_CONSTRAINT_UNIQUE')),
      new Error('run r1 has no metric "loss"'),
      undefined,
      'a string',
    ];
    expect(other.filter((error) => isDatabaseUnavailable(error))).toEqual([]);
  });
});

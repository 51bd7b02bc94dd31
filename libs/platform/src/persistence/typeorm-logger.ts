import type { Logger as TypeOrmLogger } from 'typeorm';
import type { KitLogger } from './logger';

/**
 * Routes TypeORM's log calls to a {@link KitLogger}: migrations at info, TypeORM's own warnings at
 * warn, queries and failed queries at debug (a failed query also rejects its caller, who decides
 * whether it is an error).
 */
export class TypeOrmLogAdapter implements TypeOrmLogger {
  constructor(
    private readonly logger: KitLogger,
    private readonly service: string,
  ) {}

  logQuery(query: string): void {
    this.logger.debug({ service: this.service, sql: query }, 'query');
  }

  logQueryError(error: string | Error, query: string): void {
    this.logger.debug({ service: this.service, sql: query, err: error }, 'query failed');
  }

  logQuerySlow(time: number, query: string): void {
    this.logger.warn({ service: this.service, sql: query, ms: time }, 'slow query');
  }

  logSchemaBuild(message: string): void {
    this.logger.debug({ service: this.service }, message);
  }

  logMigration(message: string): void {
    this.logger.info({ service: this.service }, message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn({ service: this.service }, String(message));
    else this.logger.debug({ service: this.service }, String(message));
  }
}

export type { DatabaseConfig, DatabaseKind } from './database-config';
export { silentLogger, type KitLogger } from './logger';
export { openDatabase, type OpenDatabaseOptions } from './open-database';
export { sqliteColumn } from './sqlite-integers';
export { OutboxEntity } from './outbox.entity';
export { ProcessedEventEntity } from './processed-event.entity';
export { OUTBOX_TABLE, PROCESSED_EVENTS_TABLE } from './kit-table-names';
export { escapedLikePattern, globPattern, likeCondition } from './like-pattern';
export { epochMillis } from './epoch-millis';

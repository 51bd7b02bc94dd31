import { EntitySchema } from 'typeorm';
import type { DatabaseKind } from './database-config';
import { PROCESSED_EVENTS_TABLE } from './kit-table-names';

/**
 * A row of a consumer's inbox: the consumer (durable name) `consumer` has acted on event
 * `eventId`. Written in the same transaction as the consumer's own changes, so an event that
 * arrives again is recognised and skipped. Kept only while the bus can still deliver the event
 * again: the `InboxPruner` deletes older rows.
 */
export class ProcessedEventEntity {
  consumer!: string;
  eventId!: string;
  processedAt!: Date;
}

/** The TypeORM mapping of {@link ProcessedEventEntity} for one database engine. */
export function processedEventEntitySchema(kind: DatabaseKind): EntitySchema<ProcessedEventEntity> {
  return new EntitySchema<ProcessedEventEntity>({
    name: 'ProcessedEventEntity',
    target: ProcessedEventEntity,
    tableName: PROCESSED_EVENTS_TABLE,
    columns: {
      consumer: { type: 'text', primary: true },
      eventId: { name: 'event_id', type: 'text', primary: true },
      processedAt: { name: 'processed_at', type: kind === 'postgres' ? 'timestamptz' : 'datetime' },
    },
  });
}

import { fromBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import type { EventEnvelope } from '@trellis/proto';
import type { DataSource, EntityManager } from 'typeorm';
import { Dialect, tableOf } from '../persistence/dialect';
import { silentLogger, type KitLogger } from '../persistence/logger';
import { ProcessedEventEntity } from '../persistence/processed-event.entity';
import type { EventBus, EventSubscription } from './event-bus';

/** What {@link subscribeIdempotent} subscribes to and what it does with each event. */
export interface IdempotentSubscribeOptions<Desc extends DescMessage> {
  /** The durable consumer name; also the consumer's key in the inbox. */
  durable: string;
  /** Subject pattern, NATS wildcards allowed. */
  subject: string;
  /** The payload's generated schema. Events carrying another payload type are acknowledged and skipped. */
  schema: Desc;
  /**
   * Acts on one event inside a transaction of the consumer's DataSource: write through `manager`
   * (publishing follow-up events with `Outbox.publish(manager, ...)` included) and the writes
   * commit together with the inbox record. Throwing rolls everything back and the event is
   * delivered again.
   */
  handle(message: MessageShape<Desc>, envelope: EventEnvelope, manager: EntityManager): Promise<void>;
  logger?: KitLogger;
}

/**
 * Subscribes `options.handle` so that each event id acts once, however often it is delivered: the
 * handler runs in a transaction of `dataSource` (the consumer's own database, from `openDatabase`)
 * that also records (durable, event id) in the processed-events inbox, and an event id already
 * recorded there is acknowledged without calling the handler.
 */
export function subscribeIdempotent<Desc extends DescMessage>(
  bus: EventBus,
  dataSource: DataSource,
  options: IdempotentSubscribeOptions<Desc>,
): Promise<EventSubscription> {
  const logger = options.logger ?? silentLogger;
  const { durable, schema } = options;
  return bus.subscribe({
    durable,
    subject: options.subject,
    handler: async (envelope) => {
      const fields = { durable, eventId: envelope.id, subject: envelope.subject };
      if (envelope.payloadType !== schema.typeName) {
        logger.debug({ ...fields, payloadType: envelope.payloadType }, `skipping an event that is not a ${schema.typeName}`);
        return;
      }
      const message = fromBinary(schema, envelope.payload);
      await dataSource.transaction(async (manager) => {
        if (!(await recordFirstDelivery(manager, durable, envelope.id))) {
          logger.debug(fields, 'event already processed; skipping it');
          return;
        }
        await options.handle(message, envelope, manager);
      });
    },
  });
}

/** Inserts the inbox row; false if it was already there (committed, or committing concurrently). */
async function recordFirstDelivery(manager: EntityManager, consumer: string, eventId: string): Promise<boolean> {
  const { driver } = manager.connection;
  const processedAtColumn = manager.connection.getMetadata(ProcessedEventEntity).findColumnWithPropertyName('processedAt');
  if (!processedAtColumn) throw new Error('ProcessedEventEntity is not registered on this DataSource; open it with openDatabase');
  const processedAt = driver.preparePersistentValue(new Date(), processedAtColumn);
  const insert = Dialect.of(manager).upsert(tableOf(manager, ProcessedEventEntity), ['consumer', 'event_id', 'processed_at'], 1, ['consumer', 'event_id']);
  const rows: unknown[] = await manager.query(`${insert} RETURNING event_id`, [consumer, eventId, processedAt]);
  return rows.length === 1;
}

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

/** One event of a batch, as {@link subscribeIdempotentBatches} hands it over. */
export interface ReceivedEvent<Desc extends DescMessage> {
  message: MessageShape<Desc>;
  envelope: EventEnvelope;
}

/** What {@link subscribeIdempotentBatches} subscribes to, how it gathers, and what it does with each batch. */
export interface IdempotentBatchSubscribeOptions<Desc extends DescMessage> {
  /** The durable consumer name; also the consumer's key in the inbox. */
  durable: string;
  /** Subject pattern, NATS wildcards allowed. */
  subject: string;
  /** The payload's generated schema. Events carrying another payload type, or one that does not decode, are acknowledged and skipped. */
  schema: Desc;
  /** Up to `maxEvents` deliveries a batch, which goes at most `lingerMs` after its first (see `SubscribeBatch`). */
  batch: { maxEvents: number; lingerMs: number };
  /**
   * Acts on the batch's events that the inbox had not seen, in stream order, inside one
   * transaction of the consumer's DataSource that also records all of them in the inbox. Throwing
   * rolls everything back and every event of the batch is delivered again. Not called when the
   * inbox had seen them all.
   */
  handleBatch(events: ReadonlyArray<ReceivedEvent<Desc>>, manager: EntityManager): Promise<void>;
  logger?: KitLogger;
}

/**
 * {@link subscribeIdempotent} for batches, for events that come by the thousand: the bus gathers
 * deliveries into batches, and each batch costs one transaction and one inbox INSERT of all its
 * event ids instead of one of each per event. An event id acts once however often it is
 * delivered, also when it comes twice in one batch; the batch's deliveries are acknowledged only
 * once that transaction committed.
 */
export function subscribeIdempotentBatches<Desc extends DescMessage>(
  bus: EventBus,
  dataSource: DataSource,
  options: IdempotentBatchSubscribeOptions<Desc>,
): Promise<EventSubscription> {
  const logger = options.logger ?? silentLogger;
  const { durable, schema } = options;
  return bus.subscribe({
    durable,
    subject: options.subject,
    batch: {
      ...options.batch,
      handler: async (envelopes) => {
        const events = decodedOnce(envelopes, schema, durable, logger);
        if (events.length === 0) return;
        await dataSource.transaction(async (manager) => {
          const fresh = await recordFirstDeliveries(
            manager,
            durable,
            events.map((event) => event.envelope.id),
          );
          const unseen = fresh.size === events.length ? events : events.filter((event) => fresh.has(event.envelope.id));
          if (unseen.length < events.length) logger.debug({ durable, skipped: events.length - unseen.length }, 'events already processed; skipping them');
          if (unseen.length > 0) await options.handleBatch(unseen, manager);
        });
      },
    },
  });
}

/** The batch's events of `schema`, each id once, decoded; the others are logged and left out. */
function decodedOnce<Desc extends DescMessage>(envelopes: readonly EventEnvelope[], schema: Desc, durable: string, logger: KitLogger): Array<ReceivedEvent<Desc>> {
  const events: Array<ReceivedEvent<Desc>> = [];
  const ids = new Set<string>();
  for (const envelope of envelopes) {
    const fields = { durable, eventId: envelope.id, subject: envelope.subject };
    if (envelope.payloadType !== schema.typeName) {
      logger.debug({ ...fields, payloadType: envelope.payloadType }, `skipping an event that is not a ${schema.typeName}`);
      continue;
    }
    if (ids.has(envelope.id)) continue;
    ids.add(envelope.id);
    try {
      events.push({ message: fromBinary(schema, envelope.payload), envelope });
    } catch (error) {
      // It would fail on every delivery and take the rest of its batch down with it.
      logger.error({ ...fields, err: error }, `an event's payload is not a valid ${schema.typeName}; skipping it`);
    }
  }
  return events;
}

/** Inserts the inbox row; false if it was already there (committed, or committing concurrently). */
async function recordFirstDelivery(manager: EntityManager, consumer: string, eventId: string): Promise<boolean> {
  return (await recordFirstDeliveries(manager, consumer, [eventId])).size === 1;
}

/**
 * Inserts the inbox rows of distinct `eventIds` in one statement; returns the ids that were not
 * there yet (neither committed nor committing concurrently).
 */
async function recordFirstDeliveries(manager: EntityManager, consumer: string, eventIds: readonly string[]): Promise<Set<string>> {
  const { driver } = manager.connection;
  const processedAtColumn = manager.connection.getMetadata(ProcessedEventEntity).findColumnWithPropertyName('processedAt');
  if (!processedAtColumn) throw new Error('ProcessedEventEntity is not registered on this DataSource; open it with openDatabase');
  const processedAt = driver.preparePersistentValue(new Date(), processedAtColumn);
  // Sorted, so that two replicas inserting overlapping batches take the rows' locks in one order.
  const sorted = [...eventIds].sort();
  const insert = Dialect.of(manager).upsert(tableOf(manager, ProcessedEventEntity), ['consumer', 'event_id', 'processed_at'], sorted.length, ['consumer', 'event_id']);
  const rows: Array<{ event_id: string }> = await manager.query(
    `${insert} RETURNING event_id`,
    sorted.flatMap((eventId) => [consumer, eventId, processedAt]),
  );
  return new Set(rows.map((row) => row.event_id));
}

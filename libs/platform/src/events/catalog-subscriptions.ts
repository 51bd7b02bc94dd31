import { fromBinary } from '@bufbuild/protobuf';
import type { EventEnvelope } from '@trellis/proto';
import type { DataSource, EntityManager } from 'typeorm';
import type { KitLogger } from '../persistence/logger';
import type { EventBus, EventSubscription } from './event-bus';
import type { EventCatalog, EventMessage, EventSubject, EventTable } from './event-catalog';
import { subscribeIdempotent } from './subscribe-idempotent';

/** What {@link subscribeToEvent} subscribes to: one subject of a catalog, and its handler. */
export interface CatalogSubscribeOptions<T extends EventTable, S extends EventSubject<T>> {
  /** The durable consumer name; also the consumer's key in the inbox. */
  durable: string;
  /** A subject of the catalog; the handler receives that subject's message type. */
  subject: S;
  /** As `subscribeIdempotent`'s `handle`: runs in a transaction that also records the event in the inbox. */
  handle(message: EventMessage<T, S>, envelope: EventEnvelope, manager: EntityManager): Promise<void>;
  logger?: KitLogger;
}

/**
 * `subscribeIdempotent` for one subject of a catalog: the schema comes from the catalog, so the
 * handler's message type is the one published on that subject.
 */
export function subscribeToEvent<T extends EventTable, S extends EventSubject<T>>(
  bus: EventBus,
  dataSource: DataSource,
  events: EventCatalog<T>,
  options: CatalogSubscribeOptions<T, S>,
): Promise<EventSubscription> {
  return subscribeIdempotent(bus, dataSource, { ...options, schema: events.schemaOf(options.subject) });
}

/** What {@link watchEvent} watches: one subject of a catalog, from a time on. */
export interface CatalogWatchOptions<T extends EventTable, S extends EventSubject<T>> {
  subject: S;
  /** As `EventBus.watch`'s `since`. */
  since: Date;
  /** Called once per event, in stream order, with the subject's message decoded. */
  handler(message: EventMessage<T, S>, envelope: EventEnvelope): void | Promise<void>;
}

/**
 * `EventBus.watch` for one subject of a catalog, decoding each event's payload with the subject's
 * schema. An event carrying another payload type is skipped, as `subscribeIdempotent` does.
 */
export function watchEvent<T extends EventTable, S extends EventSubject<T>>(
  bus: EventBus,
  events: EventCatalog<T>,
  options: CatalogWatchOptions<T, S>,
): Promise<EventSubscription> {
  const schema = events.schemaOf(options.subject);
  return bus.watch({
    subject: options.subject,
    since: options.since,
    handler: async (envelope) => {
      if (envelope.payloadType !== schema.typeName) return;
      await options.handler(fromBinary(schema, envelope.payload) as EventMessage<T, S>, envelope);
    },
  });
}

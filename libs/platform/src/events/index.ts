export { BatchPublisher, type BatchPublisherOptions, type BufferFullPolicy } from './batch-publisher';
export { subscribeToEvent, watchEvent, type CatalogSubscribeOptions, type CatalogWatchOptions } from './catalog-subscriptions';
export { reportConsumerBacklog } from './consumer-backlog';
export type { ConsumerBacklog, EventBatchHandler, EventBus, EventHandler, EventSubscription, SubscribeBatch, SubscribeOptions, WatchOptions } from './event-bus';
export {
  defineEvents,
  type CatalogEvent,
  type EventCatalog,
  type EventContext,
  type EventMessage,
  type EventSubject,
  type EventTable,
} from './event-catalog';
export { InboxPruner, inboxRetentionMs, INBOX_CLOCK_MARGIN_MS, type InboxPrunerOptions } from './inbox-pruner';
export { InProcessBus, type InProcessBusOptions } from './in-process-bus';
export { JetStreamBus, type JetStreamBusOptions } from './jetstream-bus';
export { Outbox, type OutboxEvent, type OutboxWaker } from './outbox';
export { OutboxRelay, type OutboxRelayOptions } from './outbox-relay';
export { ScrapeReading, type ScrapeReadingOptions } from './scrape-reading';
export {
  subscribeIdempotent,
  subscribeIdempotentBatches,
  type IdempotentBatchSubscribeOptions,
  type IdempotentSubscribeOptions,
  type ReceivedEvent,
} from './subscribe-idempotent';
export { subjectMatches } from './subject-match';

import type { Type } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { EventBus, EventSubscription } from '../events';
import { subscribeIdempotent, subscribeIdempotentBatches } from '../events/subscribe-idempotent';
import type { KitLogger } from '../persistence/logger';
import { durableName, type BatchEventHandlerProvider, type EventHandlerProvider, type SubscriptionDefinition } from './define-service';

type AnyHandlerProvider = EventHandlerProvider | BatchEventHandlerProvider;

/**
 * Subscribes each of a service's declared handlers, durably and through the inbox (each event
 * id acts once), one event at a time or, where the subscription declares `batch`, in batches; and
 * returns what stops them all. `get` resolves a handler in the service's container. Every handler
 * is checked before any is subscribed: it must have exactly one of `handle` and `handleBatch`,
 * the one its declaration asks for.
 */
export async function startSubscriptions(options: {
  service: string;
  subscriptions: readonly SubscriptionDefinition[];
  get: (type: Type<AnyHandlerProvider>) => AnyHandlerProvider;
  bus: EventBus;
  dataSource: DataSource;
  logger: KitLogger;
}): Promise<{ stop(): Promise<void> }> {
  const handlers = options.subscriptions.map((subscription) => ({ subscription, handler: handlerInstance(options, subscription) }));
  const running: EventSubscription[] = [];
  const stop = async () => void (await Promise.all(running.splice(0).map((subscription) => subscription.stop())));
  try {
    for (const { subscription, handler } of handlers) {
      const common = { durable: durableName(options.service, subscription), subject: subscription.subject, schema: subscription.schema, logger: options.logger };
      running.push(
        'handleBatch' in handler
          ? await subscribeIdempotentBatches(options.bus, options.dataSource, {
              ...common,
              batch: subscription.batch as { maxEvents: number; lingerMs: number },
              handleBatch: (events, manager) => handler.handleBatch(events, manager),
            })
          : await subscribeIdempotent(options.bus, options.dataSource, {
              ...common,
              handle: (message, envelope, manager) => handler.handle(message, envelope, manager),
            }),
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { stop };
}

function handlerInstance(
  options: { service: string; get: (type: Type<AnyHandlerProvider>) => AnyHandlerProvider },
  subscription: SubscriptionDefinition,
): EventHandlerProvider | BatchEventHandlerProvider {
  const type: Type<AnyHandlerProvider> = subscription.handler;
  let handler: AnyHandlerProvider;
  try {
    handler = options.get(type);
  } catch {
    throw new Error(`${options.service} subscribes ${type.name}, which its module does not provide: add it to the module's providers`);
  }
  const single = typeof (handler as Partial<EventHandlerProvider> | undefined)?.handle === 'function';
  const batched = typeof (handler as Partial<BatchEventHandlerProvider> | undefined)?.handleBatch === 'function';
  const name = `${options.service}'s event handler ${type.name}`;
  if (single && batched) throw new Error(`${name} has both handle and handleBatch: keep the one its subscription uses`);
  if (subscription.batch) {
    if (!batched) throw new Error(`${name} is subscribed in batches but has no handleBatch(events, manager) method`);
    return { handleBatch: (events, manager) => (handler as BatchEventHandlerProvider).handleBatch(events, manager) };
  }
  if (batched) throw new Error(`${name} has handleBatch but its subscription declares no batch: add batch: { maxEvents, lingerMs }`);
  if (!single) throw new Error(`${name} has no handle(message, envelope, manager) method`);
  return { handle: (message, envelope, manager) => (handler as EventHandlerProvider).handle(message, envelope, manager) };
}

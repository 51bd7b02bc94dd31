import type { Type } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { EventBus, EventSubscription } from '../events';
import { subscribeIdempotent } from '../events/subscribe-idempotent';
import type { KitLogger } from '../persistence/logger';
import { durableName, type EventHandlerProvider, type SubscriptionDefinition } from './define-service';

/**
 * Subscribes each of a service's declared handlers, durably and through the inbox (each event
 * id acts once), and returns what stops them all; `get` resolves a handler in the service's container.
 */
export async function startSubscriptions(options: {
  service: string;
  subscriptions: readonly SubscriptionDefinition[];
  get: (type: Type<EventHandlerProvider>) => EventHandlerProvider;
  bus: EventBus;
  dataSource: DataSource;
  logger: KitLogger;
}): Promise<{ stop(): Promise<void> }> {
  const handlers = options.subscriptions.map((subscription) => ({ subscription, handler: handlerInstance(options, subscription.handler) }));
  const running: EventSubscription[] = [];
  const stop = async () => void (await Promise.all(running.splice(0).map((subscription) => subscription.stop())));
  try {
    for (const { subscription, handler } of handlers) {
      running.push(
        await subscribeIdempotent(options.bus, options.dataSource, {
          durable: durableName(options.service, subscription),
          subject: subscription.subject,
          schema: subscription.schema,
          handle: (message, envelope, manager) => handler.handle(message, envelope, manager),
          logger: options.logger,
        }),
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { stop };
}

function handlerInstance(options: { service: string; get: (type: Type<EventHandlerProvider>) => EventHandlerProvider }, type: Type<EventHandlerProvider>): EventHandlerProvider {
  let handler: EventHandlerProvider;
  try {
    handler = options.get(type);
  } catch {
    throw new Error(`${options.service} subscribes ${type.name}, which its module does not provide: add it to the module's providers`);
  }
  if (typeof handler?.handle !== 'function') throw new Error(`${options.service}'s event handler ${type.name} has no handle(message, envelope, manager) method`);
  return handler;
}

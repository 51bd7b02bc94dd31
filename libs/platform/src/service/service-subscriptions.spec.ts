import type { Type } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { WidgetCreatedSchema } from '../../test/gen/trellis/kittest/v1/widget_service_pb';
import { InProcessBus } from '../events/in-process-bus';
import { WIDGET_CREATED } from '../events/test-fixtures/widget-events';
import { silentLogger } from '../persistence/logger';
import { defineService, subscription, type SubscriptionDefinition } from './define-service';
import { startSubscriptions } from './service-subscriptions';

class SingleHandler {
  handle = async (): Promise<void> => undefined;
}
class BatchHandler {
  handleBatch = async (): Promise<void> => undefined;
}
class BothHandler {
  handle = async (): Promise<void> => undefined;
  handleBatch = async (): Promise<void> => undefined;
}
class NeitherHandler {}

const service = { name: 'widgets', defaultPort: 1, module: class {}, grpcServices: [] };

function start(declared: SubscriptionDefinition) {
  const bus = new InProcessBus();
  return startSubscriptions({
    service: 'widgets',
    subscriptions: [declared],
    get: (type: Type<unknown>) => new (type as new () => never)(),
    bus,
    dataSource: {} as DataSource,
    logger: silentLogger,
  }).finally(() => bus.close());
}

describe('batched subscriptions in a service definition', () => {
  it.each([
    [{ maxEvents: 0, lingerMs: 5 }, 'batch.maxEvents 0: it must be a whole number from 1 to 10000'],
    [{ maxEvents: 10_001, lingerMs: 5 }, 'batch.maxEvents 10001: it must be a whole number from 1 to 10000'],
    [{ maxEvents: 2.5, lingerMs: 5 }, 'batch.maxEvents 2.5: it must be a whole number from 1 to 10000'],
    [{ maxEvents: 100, lingerMs: -1 }, 'batch.lingerMs -1: it must be from 0 to 10000 ms'],
    [{ maxEvents: 100, lingerMs: 10_001 }, 'batch.lingerMs 10001: it must be from 0 to 10000 ms'],
  ])('refuses batch %j, naming the subscription and the field', (batch, message) => {
    const declared = subscription({ subject: WIDGET_CREATED, schema: WidgetCreatedSchema, handler: BatchHandler, batch });
    expect(() => defineService({ ...service, subscriptions: [declared] })).toThrow(`widgets's subscription widgets-batch-handler declares ${message}`);
  });

  it('takes the bounds themselves', () => {
    for (const batch of [
      { maxEvents: 1, lingerMs: 0 },
      { maxEvents: 10_000, lingerMs: 10_000 },
    ]) {
      expect(() => defineService({ ...service, subscriptions: [subscription({ subject: WIDGET_CREATED, schema: WidgetCreatedSchema, handler: BatchHandler, batch })] })).not.toThrow();
    }
  });

  it.each([
    [{ handler: BothHandler, batch: { maxEvents: 10, lingerMs: 5 } }, "widgets's event handler BothHandler has both handle and handleBatch: keep the one its subscription uses"],
    [{ handler: SingleHandler, batch: { maxEvents: 10, lingerMs: 5 } }, "widgets's event handler SingleHandler is subscribed in batches but has no handleBatch(events, manager) method"],
    [{ handler: BatchHandler }, "widgets's event handler BatchHandler has handleBatch but its subscription declares no batch: add batch: { maxEvents, lingerMs }"],
    [{ handler: NeitherHandler }, "widgets's event handler NeitherHandler has no handle(message, envelope, manager) method"],
  ])('refuses at start a handler without exactly the method its subscription needs (%#)', async (declared, message) => {
    await expect(start({ subject: WIDGET_CREATED, schema: WidgetCreatedSchema, ...declared } as unknown as SubscriptionDefinition)).rejects.toThrow(message);
  });
});

import type { EventEnvelope } from '@trellis/proto';
import { eventually } from '@trellis/testing';
import type { DataSource } from 'typeorm';
import type { KitLogger } from '../persistence/logger';
import { openDatabase } from '../persistence/open-database';
import { widgetTables } from '../persistence/test-fixtures/widgets';
import type { EventBus } from './event-bus';
import { Outbox } from './outbox';
import { OutboxRelay } from './outbox-relay';
import { createWidget } from './test-fixtures/widget-events';

/** A bus that refuses every event until `accept()`, and whose broker connection a spec can restore. */
function flakyBus() {
  const delivered: EventEnvelope[] = [];
  const listeners = new Set<() => void>();
  let accepting = false;
  const bus: EventBus = {
    publish: async (envelope) => {
      if (!accepting) throw new Error('no connection to the broker');
      delivered.push(envelope);
    },
    subscribe: () => Promise.reject(new Error('not used')),
    watch: () => Promise.reject(new Error('not used')),
    close: async () => undefined,
    isConnected: () => accepting,
    onReconnect: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return {
    bus,
    delivered,
    listeners,
    accept: () => (accepting = true),
    reconnect: () => {
      accepting = true;
      for (const listener of listeners) listener();
    },
  };
}

/** The waits the relay announces in its retry log lines. */
function retryWaits() {
  const waits: number[] = [];
  const ignore = () => undefined;
  const logger: KitLogger = { debug: ignore, info: ignore, error: ignore, warn: (fields) => void waits.push((fields as { retryInMs: number }).retryInMs) };
  return { logger, waits };
}

describe('OutboxRelay retries', () => {
  let dataSource: DataSource;
  let relay: OutboxRelay | undefined;

  beforeEach(async () => {
    dataSource = await openDatabase({ service: 'kit-test', database: { type: 'sqlite', path: ':memory:' }, ...widgetTables });
  });

  afterEach(async () => {
    jest.useRealTimers();
    await relay?.stop();
    relay = undefined;
    await dataSource.destroy();
  });

  it('publishes as soon as the bus reconnects, without waiting out its back-off, and says meanwhile why it waits', async () => {
    const flaky = flakyBus();
    // A minute's wait after the first refusal: only the reconnection can end it within eventually's 10 s.
    relay = new OutboxRelay({ dataSource, bus: flaky.bus, retryInitialMs: 60_000 });
    relay.start();
    const { eventId } = await createWidget(dataSource, new Outbox({ relay }), 'sprocket');
    await eventually(() => expect(relay?.failing).toEqual({ since: expect.any(Date), reason: 'no connection to the broker' }));

    flaky.reconnect();

    await eventually(() => expect(flaky.delivered.map((envelope) => envelope.id)).toEqual([eventId]));
    expect(relay.failing).toBeUndefined();
  });

  /** A relay with default settings whose bus refuses everything, on fake timers; `untilWaits` lets time pass until it logged `count` waits. */
  const refusedRelay = async () => {
    const flaky = flakyBus();
    const { logger, waits } = retryWaits();
    await createWidget(dataSource, new Outbox(), 'sprocket');
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    relay = new OutboxRelay({ dataSource, bus: flaky.bus, logger });
    relay.start();
    const untilWaits = async (count: number, tickMs: number) => {
      for (let tick = 0; tick < 1000 && waits.length < count; tick++) await jest.advanceTimersByTimeAsync(tickMs);
    };
    return { flaky, waits, untilWaits };
  };

  it('waits at most 5 s between retries by default, however long the bus refuses', async () => {
    const { waits, untilWaits } = await refusedRelay();

    await untilWaits(9, 100);

    expect(waits).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
  });

  it('starts its back-off afresh after a reconnection', async () => {
    const { flaky, waits, untilWaits } = await refusedRelay();
    await untilWaits(4, 100);

    // Reconnected, yet still refused: the next waits start from the first one again.
    for (const listener of flaky.listeners) listener();
    await untilWaits(6, 10);

    expect(waits).toEqual([100, 200, 400, 800, 100, 200]);
  });
});

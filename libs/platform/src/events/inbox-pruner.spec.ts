import { eventually } from '@trellis/testing';
import type { DataSource } from 'typeorm';
import { openDatabase } from '../persistence/open-database';
import { ProcessedEventEntity } from '../persistence/processed-event.entity';
import { widgetTables } from '../persistence/test-fixtures/widgets';
import type { EventBus } from './event-bus';
import { InboxPruner, inboxRetentionMs, INBOX_CLOCK_MARGIN_MS } from './inbox-pruner';
import { InProcessBus } from './in-process-bus';
import { OutboxRelay } from './outbox-relay';

const HOUR = 3600_000;
const NOW = Date.parse('2026-12-04T12:00:00Z');

/** Inserts inbox records for `consumer`, one per age (hours before NOW), named `<consumer>-<age>h`. */
async function processedHoursAgo(dataSource: DataSource, consumer: string, ages: number[]): Promise<void> {
  await dataSource.getRepository(ProcessedEventEntity).insert(
    ages.map((age, index) => ({ consumer, eventId: `${consumer}-${age}h-${index}`, processedAt: new Date(NOW - age * HOUR) })),
  );
}

async function remaining(dataSource: DataSource): Promise<string[]> {
  return (await dataSource.getRepository(ProcessedEventEntity).find()).map((row) => row.eventId).sort();
}

describe('inbox pruning on SQLite', () => {
  let dataSource: DataSource;

  beforeEach(async () => {
    dataSource = await openDatabase({ service: 'kit-test', database: { type: 'sqlite', path: ':memory:' }, ...widgetTables });
  });

  afterEach(async () => {
    await dataSource.destroy();
  });

  it('deletes the records processed longer ago than the retention and keeps the others', async () => {
    await processedHoursAgo(dataSource, 'billing', [200, 49, 47, 1]);
    await processedHoursAgo(dataSource, 'search', [48.5, 0]);
    const pruner = new InboxPruner({ dataSource, retentionMs: 48 * HOUR, now: () => NOW });

    expect(await pruner.prune()).toBe(3);

    expect(await remaining(dataSource)).toEqual(['billing-1h-3', 'billing-47h-2', 'search-0h-1']);
  });

  it('deletes a large backlog in batches of the configured size until none is left', async () => {
    await processedHoursAgo(dataSource, 'billing', [...Array.from({ length: 25 }, () => 100), 1]);
    const pruner = new InboxPruner({ dataSource, retentionMs: 48 * HOUR, batchSize: 10, now: () => NOW });

    expect(await pruner.prune()).toBe(25);
    expect(await remaining(dataSource)).toEqual(['billing-1h-25']);
  });

  it('keeps what it kept as the clock moves on, until the record is old enough', async () => {
    await processedHoursAgo(dataSource, 'billing', [47]);
    let now = NOW;
    const pruner = new InboxPruner({ dataSource, retentionMs: 48 * HOUR, now: () => now });

    expect(await pruner.prune()).toBe(0);
    now += 2 * HOUR;
    expect(await pruner.prune()).toBe(1);
    expect(await remaining(dataSource)).toEqual([]);
  });

  it("runs with the outbox relay, keeping records for the bus's redelivery window", async () => {
    const bus = new InProcessBus({ redeliveryWindowMs: 24 * HOUR });
    await processedHoursAgo(dataSource, 'billing', [26, 24.5, 24]);
    const relay = new OutboxRelay({ dataSource, bus, inboxPruning: { now: () => NOW } });
    relay.start();
    try {
      // The window is 24 h, and one more hour for the hosts' clocks.
      await eventually(async () => expect(await remaining(dataSource)).toEqual(['billing-24.5h-1', 'billing-24h-2']));
    } finally {
      await relay.stop();
      await bus.close();
    }
  });

  it("derives the retention from the bus: its window and a margin for clocks, nothing if it states none or an endless one", () => {
    expect(inboxRetentionMs(new InProcessBus())).toBe(7 * 24 * HOUR + INBOX_CLOCK_MARGIN_MS);
    expect(inboxRetentionMs(new InProcessBus({ redeliveryWindowMs: Infinity }))).toBeUndefined();
    const silentBus = { publish: async () => undefined } as unknown as EventBus;
    expect(inboxRetentionMs(silentBus)).toBeUndefined();
  });
});

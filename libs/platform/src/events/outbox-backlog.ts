import { Gauge, type Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { Metrics } from '../ops/metrics';
import { OutboxEntity } from '../persistence/outbox.entity';
import { outboxTablePath } from './outbox-store';
import { ScrapeReading } from './scrape-reading';

/** Most outbox rows a reading counts: a backlog beyond it reads as this many, and costs no more to count. */
export const OUTBOX_COUNT_LIMIT = 100_000;

/** What waits in one database's outbox. */
export interface OutboxBacklog {
  /** Events not yet handed to the bus, at most {@link OUTBOX_COUNT_LIMIT}. */
  events: number;
  /** How long ago the first of them (in insertion order) was written; 0 when none waits. */
  oldestSeconds: number;
}

/**
 * Counts the events waiting in the outbox of `dataSource` (on PostgreSQL, those of every process
 * on that database), up to {@link OUTBOX_COUNT_LIMIT}, and reads the age of the first one by its
 * primary key: two bounded reads however far the relay is behind.
 */
export async function readOutboxBacklog(dataSource: DataSource, now = Date.now()): Promise<OutboxBacklog> {
  const [counted] = (await dataSource.query(`SELECT count(*) AS events FROM (SELECT 1 FROM ${outboxTablePath(dataSource)} LIMIT ${OUTBOX_COUNT_LIMIT}) AS waiting`)) as Array<{ events: string | number }>;
  const [first] = await dataSource.getRepository(OutboxEntity).find({ select: { seq: true, occurredAt: true }, order: { seq: 'ASC' }, take: 1 });
  return { events: Number(counted.events), oldestSeconds: first ? Math.max(0, (now - first.occurredAt.getTime()) / 1000) : 0 };
}

/**
 * `trellis_outbox_pending_events{service}` and `trellis_outbox_oldest_pending_seconds{service}` of
 * one process's registry, over the outbox of each service that reports there (each service's relay
 * does while it runs). Read when scraped, through a {@link ScrapeReading} per service; a service
 * whose database cannot be read has no series meanwhile.
 */
class OutboxBacklogGauges {
  private readonly readings = new Map<string, ScrapeReading<OutboxBacklog>>();
  private readonly pending: Gauge<'service'>;
  private readonly oldest: Gauge<'service'>;

  constructor(registry: Registry) {
    // Both gauges collect, whichever prom-client asks first; their readings are shared, so a scrape reads each outbox once.
    const collect = () => this.collect();
    this.pending = new Gauge({
      name: 'trellis_outbox_pending_events',
      help: `Events waiting in a service's outbox for the event bus to take them (on PostgreSQL, those of every replica of the service; at most ${OUTBOX_COUNT_LIMIT}).`,
      labelNames: ['service'] as const,
      registers: [registry],
      collect,
    });
    this.oldest = new Gauge({
      name: 'trellis_outbox_oldest_pending_seconds',
      help: "Age of the first event waiting in a service's outbox, in seconds; 0 when none waits.",
      labelNames: ['service'] as const,
      registers: [registry],
      collect,
    });
  }

  add(service: string, dataSource: DataSource): () => void {
    const reading = new ScrapeReading(() => readOutboxBacklog(dataSource));
    this.readings.set(service, reading);
    return () => {
      if (this.readings.get(service) !== reading) return;
      this.readings.delete(service);
      this.pending.remove({ service });
      this.oldest.remove({ service });
    };
  }

  private async collect(): Promise<void> {
    await Promise.all(
      [...this.readings].map(async ([service, reading]) => {
        const backlog = await reading.latest();
        if (this.readings.get(service) !== reading) return;
        if (backlog) {
          this.pending.set({ service }, backlog.events);
          this.oldest.set({ service }, backlog.oldestSeconds);
        } else {
          this.pending.remove({ service });
          this.oldest.remove({ service });
        }
      }),
    );
  }
}

const gauges = new WeakMap<Registry, OutboxBacklogGauges>();

/**
 * Reports the backlog of `service`'s outbox on `metrics` until the returned function is called
 * (a service started again under the same name takes its series over).
 */
export function reportOutboxBacklog(metrics: Metrics, service: string, dataSource: DataSource): () => void {
  let of = gauges.get(metrics.registry);
  if (!of) gauges.set(metrics.registry, (of = new OutboxBacklogGauges(metrics.registry)));
  return of.add(service, dataSource);
}

import { Gauge } from 'prom-client';
import type { Metrics } from '../ops/metrics';
import type { EventBus } from './event-bus';
import { ScrapeReading } from './scrape-reading';

/**
 * Reports `trellis_event_consumer_pending{consumer,subject}` on `metrics`: for each durable
 * consumer the process subscribes on `bus`, the events it has yet to handle, asked of the broker
 * when scraped (through a {@link ScrapeReading}: at most one question per consumer a second). The
 * gauge exists on every process; it has no series on a bus that keeps no backlog of its own
 * (in-process delivery: see `EventBus.consumerBacklog`), nor while the broker cannot answer.
 */
export function reportConsumerBacklog(metrics: Metrics, bus: EventBus): void {
  const ask = bus.consumerBacklog?.bind(bus);
  const reading = ask && new ScrapeReading(ask);
  new Gauge({
    name: 'trellis_event_consumer_pending',
    help: "Events a durable consumer of this process has yet to handle: not yet delivered, or delivered and not yet acknowledged (the broker's num_pending + num_ack_pending). None in standalone, where waiting events stay in the outboxes.",
    labelNames: ['consumer', 'subject'] as const,
    registers: [metrics.registry],
    async collect() {
      const backlog = await reading?.latest();
      this.reset();
      for (const { consumer, subject, pending } of backlog ?? []) this.set({ consumer, subject }, pending);
    },
  });
}

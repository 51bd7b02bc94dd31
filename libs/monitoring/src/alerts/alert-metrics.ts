import { Injectable } from '@nestjs/common';
import { Metrics } from '@trellis/platform';
import { Counter, Gauge, type Registry } from 'prom-client';
import { AlertRepository } from './alert.repository';

/** How a try to deliver an alert change ended: delivered, to be tried again, or given up on. */
export type DeliveryOutcome = 'delivered' | 'retried' | 'failed';

/**
 * The alerts' Prometheus series: open alerts by state (read from the database when scraped, so
 * every replica reports the service's count) and tries to deliver alert changes by outcome.
 */
@Injectable()
export class AlertMetrics {
  private readonly deliveries: Counter<'outcome'>;

  constructor(metrics: Metrics, repository: AlertRepository) {
    const registry = metrics.registry;
    reuse(registry, 'trellis_monitoring_alerts', () => new Gauge({
      name: 'trellis_monitoring_alerts',
      help: 'Alerts of monitors that are not resolved, by state (pending, firing).',
      labelNames: ['state'] as const,
      registers: [registry],
      async collect() {
        const counts = await repository.openCounts();
        for (const [state, count] of Object.entries(counts)) this.set({ state }, count);
      },
    }));
    this.deliveries = reuse(registry, 'trellis_monitoring_alert_deliveries_total', () => new Counter({
      name: 'trellis_monitoring_alert_deliveries_total',
      help: 'Tries to deliver an alert change to a notifier instance, by outcome (delivered, retried, failed: given up after the last try).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }));
  }

  delivery(outcome: DeliveryOutcome): void {
    this.deliveries.inc({ outcome });
  }
}

function reuse<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

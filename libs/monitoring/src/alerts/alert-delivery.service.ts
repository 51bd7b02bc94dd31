import { Inject, Injectable } from '@nestjs/common';
import { InjectPluginInstances, LOGGER, type Logger, PluginInstances, SERVICE_CONFIG } from '@trellis/platform';
import type { Alert as Notification } from '@trellis/plugin-sdk';
import type { MonitoringConfig } from '../monitoring.config';
import type { AlertDeliveryEntity } from './alert.entity';
import { AlertMetrics } from './alert-metrics';
import { AlertRepository } from './alert.repository';

/** Deliveries tried at once: the due ones go out together, each to its own notifier. */
const BATCH = 32;

/** The longest error kept with a delivery. */
const ERROR_LENGTH = 2000;

/**
 * Delivers alert changes to notifier instances: each due delivery once, marked delivered when the
 * notifier accepts it, otherwise tried again after a doubling wait and given up on after
 * `services.monitoring.alertDeliveryMaxAttempts` tries, keeping the last error.
 */
@Injectable()
export class AlertDeliveryService {
  constructor(
    private readonly repository: AlertRepository,
    private readonly metrics: AlertMetrics,
    @InjectPluginInstances('notifier') private readonly notifiers: PluginInstances<'notifier'>,
    @Inject(SERVICE_CONFIG) private readonly config: MonitoringConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Tries the deliveries due now; true when there may be more due at once. */
  async deliverDue(signal: AbortSignal): Promise<boolean> {
    const due = await this.repository.dueDeliveries(Date.now(), BATCH);
    await Promise.all(due.map((delivery) => this.deliver(delivery, signal)));
    return due.length === BATCH;
  }

  /** The wait after the `attempts`th failed try: doubling from alertDeliveryBackoffMs, at most alertDeliveryBackoffMaxMs. */
  backoffMs(attempts: number): number {
    return Math.min(this.config.alertDeliveryBackoffMaxMs, this.config.alertDeliveryBackoffMs * 2 ** Math.min(attempts - 1, 30));
  }

  private async deliver(delivery: AlertDeliveryEntity, signal: AbortSignal): Promise<void> {
    const attempts = delivery.attempts + 1;
    try {
      if (!this.notifiers.has(delivery.notifier)) throw new Error(`no notifier instance is named "${delivery.notifier}" (it was deleted after the rule named it)`);
      const notifier = await this.notifiers.open(delivery.notifier);
      await notifier.deliver(notificationOf(delivery), { signal });
    } catch (error) {
      // Stopping is not a failed try: the next leader delivers it.
      if (signal.aborted) return;
      const lastError = (error instanceof Error ? error.message : String(error)).slice(0, ERROR_LENGTH);
      if (attempts >= this.config.alertDeliveryMaxAttempts) {
        await this.repository.updateDelivery(delivery.id, { status: 'failed', attempts, lastError });
        this.metrics.delivery('failed');
        this.logger.warn({ alert: delivery.alertId, notifier: delivery.notifier, attempts, err: lastError }, 'gave up delivering an alert change');
      } else {
        await this.repository.updateDelivery(delivery.id, { attempts, lastError, nextAttemptAt: Date.now() + this.backoffMs(attempts) });
        this.metrics.delivery('retried');
      }
      return;
    }
    await this.repository.updateDelivery(delivery.id, { status: 'delivered', attempts, lastError: '', deliveredAt: Date.now() });
    this.metrics.delivery('delivered');
  }
}

/** The notifier's `Alert` a delivery carries (stored as JSON, `at` as ISO 8601). */
function notificationOf(delivery: AlertDeliveryEntity): Notification {
  const stored = JSON.parse(delivery.payload) as Omit<Notification, 'at'> & { at: string };
  return { ...stored, at: new Date(stored.at) };
}

import { Inject, Injectable } from '@nestjs/common';
import { SERVICE_CONFIG, type Worker } from '@trellis/platform';
import type { MonitoringConfig } from '../monitoring.config';
import { AlertDeliveryService } from './alert-delivery.service';
import { DeliverySignal } from './delivery-signal';

/**
 * The alert delivery loop (one replica delivers): whenever this replica commits an alert change
 * and every `services.monitoring.alertDeliveryPollMs`, it delivers the changes that are due.
 */
@Injectable()
export class AlertDeliveryWorker implements Worker {
  constructor(
    private readonly deliveries: AlertDeliveryService,
    private readonly signal: DeliverySignal,
    @Inject(SERVICE_CONFIG) private readonly config: MonitoringConfig,
  ) {}

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const more = await this.deliveries.deliverDue(signal);
      if (!more) await this.signal.wait(this.config.alertDeliveryPollMs, signal);
    }
  }
}

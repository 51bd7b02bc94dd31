import type { MessageShape } from '@bufbuild/protobuf';
import { Injectable } from '@nestjs/common';
import type { EventHandlerProvider } from '@trellis/platform';
import { MonitorDeletedEventSchema, type EventEnvelope } from '@trellis/proto';
import type { EntityManager } from 'typeorm';
import { AlertRepository } from './alert.repository';

/** Removes a deleted monitor's alert rules, alerts and deliveries not yet made. */
@Injectable()
export class AlertsMonitorDeletedHandler implements EventHandlerProvider<typeof MonitorDeletedEventSchema> {
  constructor(private readonly repository: AlertRepository) {}

  async handle(message: MessageShape<typeof MonitorDeletedEventSchema>, _envelope: EventEnvelope, manager: EntityManager): Promise<void> {
    const id = message.monitor?.id;
    if (id) await this.repository.deleteOfMonitor(manager, id);
  }
}

import type { MessageShape } from '@bufbuild/protobuf';
import { Injectable } from '@nestjs/common';
import type { EventHandlerProvider } from '@trellis/platform';
import type { EventEnvelope, MonitorDeletedEventSchema } from '@trellis/proto';
import type { EntityManager } from 'typeorm';
import { PerformanceRepository } from './performance.repository';

/** Removes a deleted monitor's predicted rows and window performance; the endpoint's labels stay for its other monitors. */
@Injectable()
export class PerformanceMonitorDeletedHandler implements EventHandlerProvider<typeof MonitorDeletedEventSchema> {
  constructor(private readonly repository: PerformanceRepository) {}

  async handle(message: MessageShape<typeof MonitorDeletedEventSchema>, _envelope: EventEnvelope, manager: EntityManager): Promise<void> {
    const monitorId = message.monitor?.id;
    if (monitorId) await this.repository.deleteMonitorRows(manager, monitorId);
  }
}

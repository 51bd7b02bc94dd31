import type { MessageShape } from '@bufbuild/protobuf';
import { Injectable } from '@nestjs/common';
import type { EventHandlerProvider } from '@trellis/platform';
import { MonitorDeletedEventSchema, type EventEnvelope } from '@trellis/proto';
import type { EntityManager } from 'typeorm';
import { DatasetMonitorService } from './dataset-monitor.service';

/** Removes the versions a deleted monitor of a dataset had recorded. */
@Injectable()
export class DatasetsMonitorDeletedHandler implements EventHandlerProvider<typeof MonitorDeletedEventSchema> {
  constructor(private readonly datasets: DatasetMonitorService) {}

  async handle(message: MessageShape<typeof MonitorDeletedEventSchema>, _envelope: EventEnvelope, manager: EntityManager): Promise<void> {
    if (message.monitor) await this.datasets.forget(manager, message.monitor.id);
  }
}

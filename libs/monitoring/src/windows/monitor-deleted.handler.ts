import type { MessageShape } from '@bufbuild/protobuf';
import { Injectable } from '@nestjs/common';
import type { EventHandlerProvider } from '@trellis/platform';
import { MonitorDeletedEventSchema, type EventEnvelope } from '@trellis/proto';
import type { EntityManager } from 'typeorm';
import { WindowService } from './window.service';

/** Removes a deleted monitor's rows, stream state, windows and results. */
@Injectable()
export class WindowsMonitorDeletedHandler implements EventHandlerProvider<typeof MonitorDeletedEventSchema> {
  constructor(private readonly windows: WindowService) {}

  async handle(message: MessageShape<typeof MonitorDeletedEventSchema>, _envelope: EventEnvelope, manager: EntityManager): Promise<void> {
    const monitor = message.monitor;
    if (monitor) await this.windows.forget(manager, { id: monitor.id, projectId: monitor.projectId, name: monitor.name });
  }
}

import type { MessageShape } from '@bufbuild/protobuf';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import { Injectable } from '@nestjs/common';
import type { EventHandlerProvider } from '@trellis/platform';
import { WindowClosedEventSchema, type EventEnvelope } from '@trellis/proto';
import type { EntityManager } from 'typeorm';
import { RolloutService } from './rollout.service';

/** The subject monitoring publishes on when a monitor's window is scored as dataset drift. */
export const DRIFT_DETECTED = 'trellis.monitoring.v1.drift.detected';

/** Condemns a baking canary whose policy's drift monitor scored a window of its rows as dataset drift. */
@Injectable()
export class DriftDetectedHandler implements EventHandlerProvider<typeof WindowClosedEventSchema> {
  constructor(private readonly rollouts: RolloutService) {}

  async handle(message: MessageShape<typeof WindowClosedEventSchema>, envelope: EventEnvelope, manager: EntityManager): Promise<void> {
    const { window } = message;
    const projectId = message.projectId || envelope.projectId;
    if (!window || !projectId || !message.endpointName || !message.monitorName) return;
    const scored = window.columns.filter((column) => !column.error).length;
    await this.rollouts.recordDrift(manager, projectId, message.endpointName, {
      monitorName: message.monitorName,
      number: Number(window.number),
      closedAt: window.closeTime ? timestampMs(window.closeTime) : 0,
      datasetDrift: window.datasetDrift,
      driftedColumns: window.driftedColumns,
      // drift_share is drifted over scored: it gives the count when the event carries no columns.
      scoredColumns: scored > 0 || window.driftShare <= 0 ? scored : Math.round(window.driftedColumns / window.driftShare),
      revisionIds: message.revisionIds,
    });
  }
}

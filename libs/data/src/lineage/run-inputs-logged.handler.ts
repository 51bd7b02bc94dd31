import type { MessageShape } from '@bufbuild/protobuf';
import { Injectable } from '@nestjs/common';
import { resourceName, type EventHandlerProvider } from '@trellis/platform';
import { RunInputsLoggedEventSchema, type EventEnvelope } from '@trellis/proto';
import { LineageNodeKind } from '@trellis/proto/trellis/data/v1/lineage_service_pb';
import type { EntityManager } from 'typeorm';
import type { ParsedNode } from './lineage-node';
import { LineageService } from './lineage.service';

/** The subject tracking publishes a run's dataset inputs on. */
export const RUN_INPUTS_LOGGED = 'trellis.tracking.v1.run.inputs_logged';

/**
 * Links each dataset version a run logs as an input (a `datasets:/` source) to the run (see
 * `LineageService.inputEdges`).
 */
@Injectable()
export class RunInputsLoggedHandler implements EventHandlerProvider<typeof RunInputsLoggedEventSchema> {
  constructor(private readonly lineage: LineageService) {}

  async handle(message: MessageShape<typeof RunInputsLoggedEventSchema>, envelope: EventEnvelope, manager: EntityManager): Promise<void> {
    const run = message.runInfo;
    const projectId = envelope.projectId || run?.projectId || '';
    if (!run?.id || !projectId) return;
    const target: ParsedNode = { name: resourceName(['runs', run.id]), kind: LineageNodeKind.RUN, projectId };
    const edges = await this.lineage.inputEdges(manager, projectId, message.datasetInputs.map((input) => input.dataset?.source ?? ''), target);
    if (edges.length > 0) await this.lineage.recordIn(manager, edges, { origin: RUN_INPUTS_LOGGED, creatorId: envelope.actor, projectId, authoritative: true });
  }
}

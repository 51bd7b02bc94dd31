import type { MessageShape } from '@bufbuild/protobuf';
import { Injectable } from '@nestjs/common';
import { resourceName, type EventHandlerProvider } from '@trellis/platform';
import { RunInputsLoggedEventSchema, type EventEnvelope } from '@trellis/proto';
import { LineageNodeKind } from '@trellis/proto/trellis/data/v1/lineage_service_pb';
import type { EntityManager } from 'typeorm';
import { datasetReferenceNode, datasetReferenceOf, datasetVersionNode, type ParsedNode } from './lineage-node';
import { LineageRepository } from './lineage.repository';
import { LineageService } from './lineage.service';

/** The subject tracking publishes a run's dataset inputs on. */
export const RUN_INPUTS_LOGGED = 'trellis.tracking.v1.run.inputs_logged';

/**
 * Links each dataset version a run logs as an input (a `datasets:/` source) to the run. A
 * reference to a dataset of the run's project becomes its version's node, a tag resolved as it
 * stands when the event arrives; one that resolves to nothing (no such dataset or tag) is kept as
 * the reference's own node.
 */
@Injectable()
export class RunInputsLoggedHandler implements EventHandlerProvider<typeof RunInputsLoggedEventSchema> {
  constructor(
    private readonly lineage: LineageService,
    private readonly repository: LineageRepository,
  ) {}

  async handle(message: MessageShape<typeof RunInputsLoggedEventSchema>, envelope: EventEnvelope, manager: EntityManager): Promise<void> {
    const run = message.runInfo;
    const projectId = envelope.projectId || run?.projectId || '';
    if (!run?.id || !projectId) return;
    const target: ParsedNode = { name: resourceName(['runs', run.id]), kind: LineageNodeKind.RUN, projectId };
    const edges = [];
    for (const input of message.datasetInputs) {
      const found = datasetReferenceOf(input.dataset?.source ?? '');
      if (!found) continue;
      const { reference, parsed } = found;
      const resolved = await this.repository.resolveReference(manager, projectId, parsed);
      const name = resolved ? datasetVersionNode(resolved.datasetId, resolved.version) : datasetReferenceNode(projectId, reference);
      edges.push({ source: { name, kind: LineageNodeKind.DATASET_VERSION, projectId }, target });
    }
    if (edges.length > 0) await this.lineage.recordIn(manager, edges, { origin: RUN_INPUTS_LOGGED, creatorId: envelope.actor, projectId, authoritative: true });
  }
}

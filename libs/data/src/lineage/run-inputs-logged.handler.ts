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
 * `datasets:/<name>/<n>` reference to a dataset of the run's project becomes its version's node;
 * any other (a tag, or a dataset not there) is kept as the reference's own node.
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
      const datasetId = parsed.version === undefined ? undefined : await this.repository.datasetIdByName(manager, projectId, parsed.datasetName);
      const name = datasetId && parsed.version !== undefined ? datasetVersionNode(datasetId, parsed.version) : datasetReferenceNode(projectId, reference);
      edges.push({ source: { name, kind: LineageNodeKind.DATASET_VERSION, projectId }, target });
    }
    if (edges.length > 0) await this.lineage.recordIn(manager, edges, { origin: RUN_INPUTS_LOGGED, creatorId: envelope.actor, projectId });
  }
}

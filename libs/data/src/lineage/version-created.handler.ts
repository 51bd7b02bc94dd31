import type { MessageShape } from '@bufbuild/protobuf';
import { Injectable } from '@nestjs/common';
import { resourceName, type EventHandlerProvider } from '@trellis/platform';
import { VersionCreatedEventSchema, type EventEnvelope } from '@trellis/proto';
import { LineageNodeKind } from '@trellis/proto/trellis/data/v1/lineage_service_pb';
import type { EntityManager } from 'typeorm';
import { modelVersionNode } from './lineage-node';
import { LineageService } from './lineage.service';

/** The subject the registry publishes new versions on. */
export const VERSION_CREATED = 'trellis.registry.v1.version.created';

/**
 * Links a registry version created from a run (its `run_id`, from a `runs:/` source) to that run,
 * which is in the version's project: the registry refuses a run of another project.
 */
@Injectable()
export class VersionCreatedHandler implements EventHandlerProvider<typeof VersionCreatedEventSchema> {
  constructor(private readonly lineage: LineageService) {}

  async handle(message: MessageShape<typeof VersionCreatedEventSchema>, envelope: EventEnvelope, manager: EntityManager): Promise<void> {
    const version = message.version;
    if (!version?.runId || !version.projectId || !version.modelName) return;
    const source = { name: resourceName(['runs', version.runId]), kind: LineageNodeKind.RUN };
    const target = { name: modelVersionNode(version.projectId, version.modelName, version.version), kind: LineageNodeKind.MODEL_VERSION, projectId: version.projectId };
    await this.lineage.recordIn(manager, [{ source, target }], { origin: VERSION_CREATED, creatorId: envelope.actor, projectId: version.projectId, authoritative: true });
  }
}

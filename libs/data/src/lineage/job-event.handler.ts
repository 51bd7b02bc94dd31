import type { MessageShape } from '@bufbuild/protobuf';
import { Injectable } from '@nestjs/common';
import { resourceName, type EventHandlerProvider } from '@trellis/platform';
import { JobEventSchema, type EventEnvelope } from '@trellis/proto';
import { LineageNodeKind } from '@trellis/proto/trellis/data/v1/lineage_service_pb';
import type { EntityManager } from 'typeorm';
import type { ParsedNode } from './lineage-node';
import { LineageService } from './lineage.service';

/** The subject compute publishes a job on when it is queued: its dataset inputs are known then. */
export const JOB_QUEUED = 'trellis.compute.v1.job.queued';
/** The subject compute publishes a job on when it runs: its tracking run is known by then. */
export const JOB_RUNNING = 'trellis.compute.v1.job.running';

/**
 * Links a compute job to the dataset versions it reads (its `datasets:/` inputs, see
 * `LineageService.inputEdges`) and to the tracking run it
 * logs into, so lineage reads dataset version -> job -> run -> model version.
 */
@Injectable()
export class JobEventHandler implements EventHandlerProvider<typeof JobEventSchema> {
  constructor(private readonly lineage: LineageService) {}

  async handle(message: MessageShape<typeof JobEventSchema>, envelope: EventEnvelope, manager: EntityManager): Promise<void> {
    const projectId = envelope.projectId || message.projectId;
    if (!message.jobId || !projectId) return;
    const job: ParsedNode = { name: resourceName(['jobs', message.jobId]), kind: LineageNodeKind.JOB, projectId };
    const edges = await this.lineage.inputEdges(manager, projectId, message.datasetInputs, job);
    if (message.runId) edges.push({ source: job, target: { name: resourceName(['runs', message.runId]), kind: LineageNodeKind.RUN, projectId } });
    if (edges.length > 0) await this.lineage.recordIn(manager, edges, { origin: envelope.subject, creatorId: envelope.actor, projectId, authoritative: true });
  }
}

import type { MessageShape } from '@bufbuild/protobuf';
import { Injectable } from '@nestjs/common';
import type { EventHandlerProvider } from '@trellis/platform';
import type { DatasetVersionCommittedEventSchema } from '@trellis/proto/trellis/data/v1/events_pb';
import type { EntityManager } from 'typeorm';
import { DatasetMonitorService } from './dataset-monitor.service';
import { DatasetVersionWorker } from './dataset-version.worker';

/** The subject data publishes committed versions on. */
export const VERSION_COMMITTED = 'trellis.data.v1.version.committed';

/** Records a committed version for the monitors of its dataset to score; the worker reads and scores it off this transaction. */
@Injectable()
export class VersionCommittedHandler implements EventHandlerProvider<typeof DatasetVersionCommittedEventSchema> {
  constructor(
    private readonly datasets: DatasetMonitorService,
    private readonly worker: DatasetVersionWorker,
  ) {}

  async handle(message: MessageShape<typeof DatasetVersionCommittedEventSchema>, _envelope: unknown, manager: EntityManager): Promise<void> {
    if (!message.version) return;
    await this.datasets.versionCommitted(manager, message.version);
    // After the commit the worker of this replica looks at once, rather than at its next pass.
    this.worker.wake();
  }
}

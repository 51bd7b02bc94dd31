import type { MessageShape } from '@bufbuild/protobuf';
import { Injectable } from '@nestjs/common';
import type { EventHandlerProvider } from '@trellis/platform';
import { DatasetVersionCommittedEventSchema } from '@trellis/proto/trellis/data/v1/events_pb';
import type { EntityManager } from 'typeorm';
import { VersionRepository } from '../versions/version.repository';
import { ProfileRepository, type ProfileTask } from './profile.repository';
import { ProfileWorker } from './profile.worker';
import { tabularFormatOf } from './tabular-format';

/** The subject the data service publishes committed versions on. */
export const VERSION_COMMITTED = 'trellis.data.v1.version.committed';

/** Files read per page when a version is queued. */
const PAGE = 1000;

/**
 * Queues the tabular files of a committed version for profiling, each blob and format once: a
 * version that shares files with its parent adds only the blobs it is the first to name.
 */
@Injectable()
export class VersionCommittedHandler implements EventHandlerProvider<typeof DatasetVersionCommittedEventSchema> {
  constructor(
    private readonly versions: VersionRepository,
    private readonly profiles: ProfileRepository,
    private readonly worker: ProfileWorker,
  ) {}

  async handle(message: MessageShape<typeof DatasetVersionCommittedEventSchema>, _envelope: unknown, manager: EntityManager): Promise<void> {
    const committed = message.version;
    if (!committed?.datasetId || !committed.storageInstance) return;
    const version = await this.versions.findVersion(manager, committed.datasetId, Number(committed.version));
    if (!version) return;
    const now = Date.now();
    let after: string | undefined;
    for (;;) {
      const files = await this.versions.pageFiles(manager, version.id, '', after, PAGE);
      const tasks: ProfileTask[] = [];
      for (const file of files) {
        const format = tabularFormatOf(file.path);
        if (format) tasks.push({ sha256: file.sha256, format, storeName: committed.storageInstance });
      }
      await this.profiles.enqueue(manager, tasks, now);
      if (files.length < PAGE) break;
      after = files[files.length - 1].path;
    }
    // Queued rows are visible once this delivery commits; the worker looks again then.
    setImmediate(() => this.worker.wake());
  }
}

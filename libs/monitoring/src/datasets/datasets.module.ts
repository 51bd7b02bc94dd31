import { Module } from '@nestjs/common';
import { WindowsModule } from '../windows/windows.module';
import { DatasetMonitorService } from './dataset-monitor.service';
import { DatasetVersionRepository } from './dataset-version.repository';
import { DatasetVersionWorker } from './dataset-version.worker';
import { DatasetsMonitorDeletedHandler } from './monitor-deleted.handler';
import { VersionCommittedHandler } from './version-committed.handler';

/** Datasets: the versions of monitored datasets, each scored as one window. */
@Module({
  imports: [WindowsModule],
  providers: [DatasetMonitorService, DatasetVersionRepository, DatasetVersionWorker, VersionCommittedHandler, DatasetsMonitorDeletedHandler],
})
export class DatasetsModule {}

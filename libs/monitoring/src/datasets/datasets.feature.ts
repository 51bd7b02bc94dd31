import { subscription } from '@trellis/platform';
import { MonitorDeletedEventSchema } from '@trellis/proto';
import { DatasetVersionCommittedEventSchema } from '@trellis/proto/trellis/data/v1/events_pb';
import { AddDatasetMonitors1796476700000 } from '../migrations/1796476700000-add-dataset-monitors';
import type { MonitoringFeature } from '../monitoring.feature';
import { DatasetVersionWorker } from './dataset-version.worker';
import { DatasetsMonitorDeletedHandler } from './monitor-deleted.handler';
import { VERSION_COMMITTED, VersionCommittedHandler } from './version-committed.handler';

/** The datasets feature's migration (the dataset columns of monitors, and the versions to score), subscriptions and worker. */
export const datasetsFeature: MonitoringFeature = {
  entities: [],
  migrations: [AddDatasetMonitors1796476700000],
  subscriptions: [
    subscription({ subject: VERSION_COMMITTED, schema: DatasetVersionCommittedEventSchema, handler: VersionCommittedHandler }),
    subscription({ subject: 'trellis.monitoring.v1.monitor.deleted', schema: MonitorDeletedEventSchema, handler: DatasetsMonitorDeletedHandler }),
  ],
  workers: [DatasetVersionWorker],
};

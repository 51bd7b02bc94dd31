import { subscription } from '@trellis/platform';
import { MonitorDeletedEventSchema, PredictionsLoggedEventSchema } from '@trellis/proto';
import { CreateWindowTables1796476400000 } from '../migrations/1796476400000-create-window-tables';
import type { MonitoringFeature } from '../monitoring.feature';
import { WindowsMonitorDeletedHandler } from './monitor-deleted.handler';
import { PREDICTION_BATCH, PREDICTIONS_LOGGED, PredictionLoggedHandler } from './prediction-logged.handler';
import { WindowCloserWorker } from './window-closer.worker';
import { MonitorColumnResultEntity, MonitorWindowEntity } from './window.entity';

/** The windows feature's tables, migrations, subscriptions and workers. */
export const windowsFeature: MonitoringFeature = {
  entities: [MonitorWindowEntity, MonitorColumnResultEntity],
  migrations: [CreateWindowTables1796476400000],
  subscriptions: [
    subscription({ subject: PREDICTIONS_LOGGED, schema: PredictionsLoggedEventSchema, handler: PredictionLoggedHandler, batch: PREDICTION_BATCH }),
    subscription({ subject: 'trellis.monitoring.v1.monitor.deleted', schema: MonitorDeletedEventSchema, handler: WindowsMonitorDeletedHandler }),
  ],
  workers: [WindowCloserWorker],
};

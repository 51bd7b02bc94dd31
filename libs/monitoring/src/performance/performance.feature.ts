import { subscription } from '@trellis/platform';
import { MonitorDeletedEventSchema } from '@trellis/proto';
import { CreatePerformanceTables1796476500000 } from '../migrations/1796476500000-create-performance-tables';
import type { MonitoringFeature } from '../monitoring.feature';
import { LabelRetentionWorker } from './label-retention.worker';
import { PerformanceMonitorDeletedHandler } from './monitor-deleted.handler';
import { LabelEntity, PredictedRowEntity, WindowPerformanceEntity } from './performance.entity';

/** The performance feature's tables, migrations, subscriptions and workers. */
export const performanceFeature: MonitoringFeature = {
  entities: [LabelEntity, PredictedRowEntity, WindowPerformanceEntity],
  migrations: [CreatePerformanceTables1796476500000],
  subscriptions: [
    subscription({ subject: 'trellis.monitoring.v1.monitor.deleted', schema: MonitorDeletedEventSchema, handler: PerformanceMonitorDeletedHandler, durable: 'monitoring-performance-monitor-deleted' }),
  ],
  workers: [LabelRetentionWorker],
};

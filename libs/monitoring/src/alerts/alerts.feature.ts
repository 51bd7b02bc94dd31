import { subscription } from '@trellis/platform';
import { MonitorDeletedEventSchema } from '@trellis/proto';
import { CreateAlertTables1796476600000 } from '../migrations/1796476600000-create-alert-tables';
import type { MonitoringFeature } from '../monitoring.feature';
import { AlertDeliveryWorker } from './alert-delivery.worker';
import { AlertDeliveryEntity, AlertEntity, AlertRuleEntity } from './alert.entity';
import { AlertsMonitorDeletedHandler } from './monitor-deleted.handler';

/** The alerts feature's tables, migrations, subscriptions and workers. */
export const alertsFeature: MonitoringFeature = {
  entities: [AlertRuleEntity, AlertEntity, AlertDeliveryEntity],
  migrations: [CreateAlertTables1796476600000],
  subscriptions: [subscription({ subject: 'trellis.monitoring.v1.monitor.deleted', schema: MonitorDeletedEventSchema, handler: AlertsMonitorDeletedHandler, durable: 'monitoring-alerts-monitor-deleted' })],
  workers: [AlertDeliveryWorker],
};

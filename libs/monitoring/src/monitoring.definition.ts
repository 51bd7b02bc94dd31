import { defineService } from '@trellis/platform';
import { AlertServiceDesc, MonitoringServiceDesc } from '@trellis/proto';
import { alertsFeature } from './alerts/alerts.feature';
import { datasetsFeature } from './datasets/datasets.feature';
import { CreateMonitoringTables1796476304875 } from './migrations/1796476304875-create-monitoring-tables';
import { monitoringConfig } from './monitoring.config';
import { MonitoringModule } from './monitoring.module';
import { MonitorEntity, MonitorReferenceEntity } from './monitors/monitor.entity';
import { monitorsFeature } from './monitors/monitors.feature';
import { performanceFeature } from './performance/performance.feature';
import { windowsFeature } from './windows/windows.feature';

const features = [monitorsFeature, windowsFeature, performanceFeature, alertsFeature, datasetsFeature];

/**
 * The monitoring service: monitors of endpoints' logged predictions, each window scored against a
 * reference by drift plugin instances, performance once labels arrive, and alert rules whose
 * alerts reach notifier plugin instances.
 */
export const monitoringService = defineService({
  name: 'monitoring',
  description: "Compares endpoints' logged predictions with their training data, window by window, and alerts",
  defaultPort: 50058,
  config: monitoringConfig,
  module: MonitoringModule,
  grpcServices: [MonitoringServiceDesc, AlertServiceDesc],
  subscriptions: features.flatMap((feature) => feature.subscriptions),
  workers: features.flatMap((feature) => feature.workers),
  // The default reference is found through lineage: the endpoint's revision, its registry version,
  // the run, and the run's training dataset, whose profile data serves.
  calls: ['serving', 'registry', 'tracking', 'data'],
  // A monitor whose dataset profile is computed later is fitted by a worker, as the service's own
  // account on behalf of whoever created it.
  identity: { purpose: "fits the references of monitors whose dataset profile becomes ready later, and reads each new version of a monitored dataset, on behalf of the monitor's creator" },
  plugins: {
    drift: {
      purpose: "scores each monitored column's window against its reference: a column names the instance that scores it",
      // Evidently's default policy picks among these per column (CreateMonitor's comment).
      defaults: {
        ks: { plugin: 'drift-stats', config: async () => ({ method: 'ks' }) },
        'chi-square': { plugin: 'drift-stats', config: async () => ({ method: 'chi-square' }) },
        'z-test': { plugin: 'drift-stats', config: async () => ({ method: 'z-test' }) },
        wasserstein: { plugin: 'drift-stats', config: async () => ({ method: 'wasserstein' }) },
        'jensen-shannon': { plugin: 'drift-stats', config: async () => ({ method: 'jensen-shannon' }) },
        psi: { plugin: 'drift-stats', config: async () => ({ method: 'psi' }) },
      },
    },
    notifier: { purpose: "delivers alerts: an alert rule names the instances its alerts reach", optional: true },
  },
  entities: [MonitorEntity, MonitorReferenceEntity, ...features.flatMap((feature) => feature.entities as never[])],
  migrations: [CreateMonitoringTables1796476304875, ...features.flatMap((feature) => feature.migrations as never[])],
});

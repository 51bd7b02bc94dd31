import type { MonitoringFeature } from '../monitoring.feature';

/** The performance feature's tables, migrations, subscriptions and workers. */
export const performanceFeature: MonitoringFeature = { entities: [], migrations: [], subscriptions: [], workers: [] };

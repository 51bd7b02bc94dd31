import type { MonitoringFeature } from '../monitoring.feature';

/** The alerts feature's tables, migrations, subscriptions and workers. */
export const alertsFeature: MonitoringFeature = { entities: [], migrations: [], subscriptions: [], workers: [] };

import type { MonitoringFeature } from '../monitoring.feature';

/** The windows feature's tables, migrations, subscriptions and workers. */
export const windowsFeature: MonitoringFeature = { entities: [], migrations: [], subscriptions: [], workers: [] };

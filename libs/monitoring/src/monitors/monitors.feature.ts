import type { MonitoringFeature } from '../monitoring.feature';
import { PendingReferenceWorker } from './pending-reference.worker';

/** The monitors feature's workers; its tables are the service's first migration's (monitoring.definition.ts). */
export const monitorsFeature: MonitoringFeature = { entities: [], migrations: [], subscriptions: [], workers: [PendingReferenceWorker] };

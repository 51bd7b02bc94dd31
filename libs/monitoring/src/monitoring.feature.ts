import type { ServiceDefinition } from '@trellis/platform';

/**
 * What one feature folder of the monitoring service adds to its definition: its tables and
 * migrations, the events it consumes and its background workers. `monitoring.definition.ts`
 * gathers them, so a feature is wired by its own folder.
 */
export type MonitoringFeature = Required<Pick<ServiceDefinition, 'entities' | 'migrations' | 'subscriptions' | 'workers'>>;

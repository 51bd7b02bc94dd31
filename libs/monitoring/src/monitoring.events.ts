import { defineEvents } from '@trellis/platform';
import { AlertEventSchema, AuditEventSchema, MonitorCreatedEventSchema, MonitorDeletedEventSchema, WindowClosedEventSchema } from '@trellis/proto';

/** Every event the monitoring service publishes, by subject, with its message (proto/trellis/monitoring/v1/events.proto). */
export const monitoringEvents = defineEvents({
  'trellis.monitoring.v1.monitor.created': MonitorCreatedEventSchema,
  'trellis.monitoring.v1.monitor.deleted': MonitorDeletedEventSchema,
  'trellis.monitoring.v1.window.closed': WindowClosedEventSchema,
  'trellis.monitoring.v1.drift.detected': WindowClosedEventSchema,
  'trellis.monitoring.v1.alert.firing': AlertEventSchema,
  'trellis.monitoring.v1.alert.resolved': AlertEventSchema,
  /** Written by the kit's AuditRecorder for the service's calls. */
  'trellis.monitoring.v1.audit.recorded': AuditEventSchema,
});

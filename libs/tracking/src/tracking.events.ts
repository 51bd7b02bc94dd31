import { defineEvents } from '@trellis/platform';
import { AuditEventSchema, RunCreatedEventSchema, RunFinishedEventSchema, RunInputsLoggedEventSchema } from '@trellis/proto';

/** Every event tracking publishes, by subject, with its message (proto/trellis/tracking/v1/events.proto). */
export const trackingEvents = defineEvents({
  'trellis.tracking.v1.run.created': RunCreatedEventSchema,
  'trellis.tracking.v1.run.finished': RunFinishedEventSchema,
  'trellis.tracking.v1.run.inputs_logged': RunInputsLoggedEventSchema,
  /** Written by the kit's AuditRecorder for tracking's calls. */
  'trellis.tracking.v1.audit.recorded': AuditEventSchema,
});

import { defineEvents } from '@trellis/platform';
import { AuditEventSchema, JobEventSchema } from '@trellis/proto';

/** Every event the compute service publishes, by subject, with its message (proto/trellis/compute/v1/events.proto). */
export const computeEvents = defineEvents({
  'trellis.compute.v1.job.queued': JobEventSchema,
  'trellis.compute.v1.job.admitted': JobEventSchema,
  'trellis.compute.v1.job.running': JobEventSchema,
  'trellis.compute.v1.job.succeeded': JobEventSchema,
  'trellis.compute.v1.job.failed': JobEventSchema,
  'trellis.compute.v1.job.cancelled': JobEventSchema,
  /** Written by the kit's AuditRecorder for the service's calls. */
  'trellis.compute.v1.audit.recorded': AuditEventSchema,
});

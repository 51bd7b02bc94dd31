import { defineEvents } from '@trellis/platform';
import { AuditEventSchema, QueueCreatedEventSchema, QueueDeletedEventSchema } from '@trellis/proto';

/** Every event the compute service publishes, by subject, with its message (proto/trellis/compute/v1/events.proto). */
export const computeEvents = defineEvents({
  'trellis.compute.v1.queue.created': QueueCreatedEventSchema,
  'trellis.compute.v1.queue.deleted': QueueDeletedEventSchema,
  /** Written by the kit's AuditRecorder for the service's calls. */
  'trellis.compute.v1.audit.recorded': AuditEventSchema,
});

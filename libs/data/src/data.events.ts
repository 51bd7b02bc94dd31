import { defineEvents } from '@trellis/platform';
import { AuditEventSchema, DatasetCreatedEventSchema, DatasetDeletedEventSchema } from '@trellis/proto';

/** Every event the data service publishes, by subject, with its message (proto/trellis/data/v1/events.proto). */
export const dataEvents = defineEvents({
  'trellis.data.v1.dataset.created': DatasetCreatedEventSchema,
  'trellis.data.v1.dataset.deleted': DatasetDeletedEventSchema,
  /** Written by the kit's AuditRecorder for the service's calls. */
  'trellis.data.v1.audit.recorded': AuditEventSchema,
});

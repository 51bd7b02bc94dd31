import { defineEvents } from '@trellis/platform';
import { AuditEventSchema, DatasetCreatedEventSchema, DatasetDeletedEventSchema } from '@trellis/proto';
import { DatasetVersionCommittedEventSchema, DatasetVersionDeletedEventSchema } from '@trellis/proto/trellis/data/v1/events_pb';

/** Every event the data service publishes, by subject, with its message (proto/trellis/data/v1/events.proto). */
export const dataEvents = defineEvents({
  'trellis.data.v1.dataset.created': DatasetCreatedEventSchema,
  'trellis.data.v1.dataset.deleted': DatasetDeletedEventSchema,
  'trellis.data.v1.version.committed': DatasetVersionCommittedEventSchema,
  'trellis.data.v1.version.deleted': DatasetVersionDeletedEventSchema,
  /** Written by the kit's AuditRecorder for the service's calls. */
  'trellis.data.v1.audit.recorded': AuditEventSchema,
});

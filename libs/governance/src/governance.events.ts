import { defineEvents } from '@trellis/platform';
import { AccessRevokedEventSchema, AuditCheckpointedEventSchema, AuditEventSchema } from '@trellis/proto';

/** Every event governance publishes, by subject, with its message (proto/trellis/governance/v1/events.proto). */
export const governanceEvents = defineEvents({
  'trellis.governance.v1.access.revoked': AccessRevokedEventSchema,
  'trellis.governance.v1.audit.checkpointed': AuditCheckpointedEventSchema,
  /** Written by the kit's AuditRecorder for governance's own calls. */
  'trellis.governance.v1.audit.recorded': AuditEventSchema,
});

import { defineEvents } from '@trellis/platform';
import { AliasDeletedEventSchema, AliasSetEventSchema, AuditEventSchema, VersionCreatedEventSchema, VersionSettledEventSchema } from '@trellis/proto';

/** Every event the registry publishes, by subject, with its message (proto/trellis/registry/v1/events.proto). */
export const registryEvents = defineEvents({
  'trellis.registry.v1.version.created': VersionCreatedEventSchema,
  'trellis.registry.v1.version.settled': VersionSettledEventSchema,
  'trellis.registry.v1.alias.set': AliasSetEventSchema,
  'trellis.registry.v1.alias.deleted': AliasDeletedEventSchema,
  /** Written by the kit's AuditRecorder for the registry's calls. */
  'trellis.registry.v1.audit.recorded': AuditEventSchema,
});

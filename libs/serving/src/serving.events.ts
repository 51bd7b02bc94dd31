import { defineEvents } from '@trellis/platform';
import { AuditEventSchema, EndpointCreatedEventSchema, EndpointDeletedEventSchema, EndpointTrafficChangedEventSchema, PredictionsLoggedEventSchema, RevisionCreatedEventSchema, RevisionStateChangedEventSchema, RolloutEventSchema } from '@trellis/proto';

/** Every event the serving service publishes, by subject, with its message (proto/trellis/serving/v1/events.proto). */
export const servingEvents = defineEvents({
  'trellis.serving.v1.endpoint.created': EndpointCreatedEventSchema,
  'trellis.serving.v1.endpoint.deleted': EndpointDeletedEventSchema,
  'trellis.serving.v1.endpoint.traffic_changed': EndpointTrafficChangedEventSchema,
  'trellis.serving.v1.revision.created': RevisionCreatedEventSchema,
  'trellis.serving.v1.revision.state_changed': RevisionStateChangedEventSchema,
  'trellis.serving.v1.rollout.started': RolloutEventSchema,
  'trellis.serving.v1.rollout.promoted': RolloutEventSchema,
  'trellis.serving.v1.rollout.rolled_back': RolloutEventSchema,
  /** Sampled inference requests, packed many to an event and batched without the outbox: lossy by design (docs/serving.md, "Prediction logs"). */
  'trellis.serving.v1.predictions.logged': PredictionsLoggedEventSchema,
  /** Written by the kit's AuditRecorder for the service's calls. */
  'trellis.serving.v1.audit.recorded': AuditEventSchema,
});

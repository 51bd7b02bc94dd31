export * from './gen/google/rpc/status_pb';
export * from './gen/google/rpc/error_details_pb';
export * from './gen/trellis/audit/v1/audit_event_pb';
export * from './gen/trellis/events/v1/envelope_pb';
export * from './gen/trellis/options/v1/options_pb';
export * from './gen/trellis/governance/v1/approval_service_pb';
export * from './gen/trellis/governance/v1/audit_service_pb';
export * from './gen/trellis/governance/v1/identity_service_pb';
export * from './gen/trellis/governance/v1/resources_pb';
export * from './gen/trellis/governance/v1/token_service_pb';
export * from './gen/trellis/governance/v1/events_pb';
export * from './gen/trellis/tracking/v1/resources_pb';
export * from './gen/trellis/tracking/v1/experiment_service_pb';
export * from './gen/trellis/tracking/v1/run_service_pb';
export * from './gen/trellis/tracking/v1/metric_service_pb';
export * from './gen/trellis/tracking/v1/artifact_service_pb';
export * from './gen/trellis/tracking/v1/events_pb';
export * from './gen/trellis/registry/v1/resources_pb';
export * from './gen/trellis/registry/v1/registry_service_pb';
export * from './gen/trellis/registry/v1/events_pb';
export * from './gen/trellis/plugins/v1/resources_pb';
export * from './gen/trellis/plugins/v1/plugin_instance_service_pb';
// trellis.data.v1.Dataset and trellis.tracking.v1.Dataset (a run's dataset input) share a name; the
// star exports would make both ambiguous, so the index names tracking's, and data's code imports its
// own from '@trellis/proto/trellis/data/v1/resources_pb'.
export { type Dataset, DatasetSchema } from './gen/trellis/tracking/v1/resources_pb';
export * from './gen/trellis/data/v1/resources_pb';
export * from './gen/trellis/data/v1/data_service_pb';
export * from './gen/trellis/data/v1/events_pb';
export * from './gen/trellis/compute/v1/resources_pb';
export * from './gen/trellis/compute/v1/cluster_service_pb';
export * from './gen/trellis/compute/v1/queue_service_pb';
export * from './gen/trellis/compute/v1/job_service_pb';
export * from './gen/trellis/compute/v1/events_pb';
export * from './gen/inference/grpc_predict_v2_pb';
export * from './service-descriptors';

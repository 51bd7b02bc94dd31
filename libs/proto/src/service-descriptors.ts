// The gRPC service descriptors under the names code uses for them: `<Service>Desc`. A service lib's
// own Nest class is `RunService` (the logic behind RunService's calls), so the descriptor that
// protobuf-es also names `RunService` is imported under this name everywhere (lint enforces it).
export { ApprovalService as ApprovalServiceDesc } from './gen/trellis/governance/v1/approval_service_pb';
export { AuditService as AuditServiceDesc } from './gen/trellis/governance/v1/audit_service_pb';
export { IdentityService as IdentityServiceDesc } from './gen/trellis/governance/v1/identity_service_pb';
export { TokenService as TokenServiceDesc } from './gen/trellis/governance/v1/token_service_pb';
export { ExperimentService as ExperimentServiceDesc } from './gen/trellis/tracking/v1/experiment_service_pb';
export { RunService as RunServiceDesc } from './gen/trellis/tracking/v1/run_service_pb';
export { MetricService as MetricServiceDesc } from './gen/trellis/tracking/v1/metric_service_pb';
export { ArtifactService as ArtifactServiceDesc } from './gen/trellis/tracking/v1/artifact_service_pb';
export { RegistryService as RegistryServiceDesc } from './gen/trellis/registry/v1/registry_service_pb';
export { PluginInstanceService as PluginInstanceServiceDesc } from './gen/trellis/plugins/v1/plugin_instance_service_pb';
export { DataService as DataServiceDesc } from './gen/trellis/data/v1/data_service_pb';
export { BlobService as BlobServiceDesc } from './gen/trellis/data/v1/blob_service_pb';
export { LineageService as LineageServiceDesc } from './gen/trellis/data/v1/lineage_service_pb';
export { ProfileService as ProfileServiceDesc } from './gen/trellis/data/v1/profile_service_pb';
export { ClusterService as ClusterServiceDesc } from './gen/trellis/compute/v1/cluster_service_pb';
export { QueueService as QueueServiceDesc } from './gen/trellis/compute/v1/queue_service_pb';
export { JobService as JobServiceDesc } from './gen/trellis/compute/v1/job_service_pb';
export { GRPCInferenceService as GRPCInferenceServiceDesc } from './gen/inference/grpc_predict_v2_pb';
export { EndpointService as EndpointServiceDesc } from './gen/trellis/serving/v1/endpoint_service_pb';
export { RolloutService as RolloutServiceDesc } from './gen/trellis/serving/v1/rollout_service_pb';
export { PredictionService as PredictionServiceDesc } from './gen/trellis/serving/v1/prediction_service_pb';
export { MonitoringService as MonitoringServiceDesc } from './gen/trellis/monitoring/v1/monitoring_service_pb';
export { AlertService as AlertServiceDesc } from './gen/trellis/monitoring/v1/alert_service_pb';

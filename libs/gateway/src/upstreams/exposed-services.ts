import type { DescService } from '@bufbuild/protobuf';
import {
  AlertServiceDesc,
  ApprovalServiceDesc,
  ArtifactServiceDesc,
  AuditServiceDesc,
  BlobServiceDesc,
  ClusterServiceDesc,
  DataServiceDesc,
  EndpointServiceDesc,
  ExperimentServiceDesc,
  IdentityServiceDesc,
  JobServiceDesc,
  LineageServiceDesc,
  MetricServiceDesc,
  MonitoringServiceDesc,
  PluginInstanceServiceDesc,
  PredictionServiceDesc,
  ProfileServiceDesc,
  QueueServiceDesc,
  RegistryServiceDesc,
  RolloutServiceDesc,
  RunServiceDesc,
  TokenServiceDesc,
} from '@trellis/proto';

/**
 * The gRPC services the gateway serves over HTTP, by the platform service that answers them
 * (whose upstream address is `gateway.upstreams.<name>`). Exposing a service is one entry here.
 */
export const EXPOSED_SERVICES: Readonly<Record<string, readonly DescService[]>> = {
  governance: [IdentityServiceDesc, TokenServiceDesc, AuditServiceDesc, ApprovalServiceDesc],
  tracking: [ExperimentServiceDesc, RunServiceDesc, MetricServiceDesc, ArtifactServiceDesc],
  registry: [RegistryServiceDesc],
  data: [DataServiceDesc, BlobServiceDesc, LineageServiceDesc, ProfileServiceDesc],
  compute: [ClusterServiceDesc, QueueServiceDesc, JobServiceDesc],
  serving: [EndpointServiceDesc, RolloutServiceDesc, PredictionServiceDesc],
  monitoring: [MonitoringServiceDesc, AlertServiceDesc],
};

/**
 * Services each platform service answers for itself (its own plugin instances): the gateway routes
 * a call to the platform service its request's `service` field names, which must be one of
 * EXPOSED_SERVICES' keys.
 */
export const ROUTED_BY_SERVICE_FIELD: readonly DescService[] = [PluginInstanceServiceDesc];

import type { DescService } from '@bufbuild/protobuf';
import {
  ApprovalServiceDesc,
  ArtifactServiceDesc,
  AuditServiceDesc,
  ExperimentServiceDesc,
  IdentityServiceDesc,
  MetricServiceDesc,
  RegistryServiceDesc,
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
};

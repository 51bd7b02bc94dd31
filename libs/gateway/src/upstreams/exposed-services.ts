import type { DescService } from '@bufbuild/protobuf';
import {
  ApprovalService,
  ArtifactService,
  AuditService,
  ExperimentService,
  IdentityService,
  MetricService,
  RegistryService,
  RunService,
  TokenService,
} from '@trellis/proto';

/**
 * The gRPC services the gateway serves over HTTP, by the platform service that answers them
 * (whose upstream address is `gateway.upstreams.<name>`). Exposing a service is one entry here.
 */
export const EXPOSED_SERVICES: Readonly<Record<string, readonly DescService[]>> = {
  governance: [IdentityService, TokenService, AuditService, ApprovalService],
  tracking: [ExperimentService, RunService, MetricService, ArtifactService],
  registry: [RegistryService],
};

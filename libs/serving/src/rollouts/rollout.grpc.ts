import { create } from '@bufbuild/protobuf';
import type { Metadata } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { callerOf, Requires } from '@trellis/platform';
import {
  AbortRolloutResponseSchema,
  ListRolloutsResponseSchema,
  SetRolloutPolicyResponseSchema,
  type AbortRolloutRequest,
  type AbortRolloutResponse,
  type ListRolloutsRequest,
  type ListRolloutsResponse,
  type SetRolloutPolicyRequest,
  type SetRolloutPolicyResponse,
} from '@trellis/proto';
import { ENDPOINT_KIND } from '../endpoints/endpoint.service';
import { policyFromProto, policyToProto, rolloutToProto } from './rollout.mapping';
import { RolloutService } from './rollout.service';

/** Handlers of `trellis.serving.v1.RolloutService`: they map proto to domain and back, and declare each method's permission. */
@Controller()
export class RolloutGrpc {
  constructor(private readonly rollouts: RolloutService) {}

  @GrpcMethod('RolloutService', 'SetRolloutPolicy')
  @Requires('update', ENDPOINT_KIND)
  async setRolloutPolicy(request: SetRolloutPolicyRequest, metadata: Metadata): Promise<SetRolloutPolicyResponse> {
    const stored = await this.rollouts.setPolicy(callerOf(metadata), request.endpointId, request.policy && policyFromProto(request.policy));
    return create(SetRolloutPolicyResponseSchema, { policy: stored && policyToProto(stored) });
  }

  @GrpcMethod('RolloutService', 'ListRollouts')
  @Requires('read', ENDPOINT_KIND)
  async listRollouts(request: ListRolloutsRequest, metadata: Metadata): Promise<ListRolloutsResponse> {
    const { policy, rollouts } = await this.rollouts.list(callerOf(metadata), request.endpointId);
    return create(ListRolloutsResponseSchema, { policy: policy ? policyToProto(policy) : undefined, rollouts: rollouts.map(rolloutToProto) });
  }

  @GrpcMethod('RolloutService', 'AbortRollout')
  @Requires('update', ENDPOINT_KIND)
  async abortRollout(request: AbortRolloutRequest, metadata: Metadata): Promise<AbortRolloutResponse> {
    return create(AbortRolloutResponseSchema, { rollout: rolloutToProto(await this.rollouts.abort(callerOf(metadata), request.endpointId)) });
  }
}

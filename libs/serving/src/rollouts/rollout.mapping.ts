import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { RolloutPolicySchema, RolloutSchema, RolloutStage, type Rollout, type RolloutPolicy } from '@trellis/proto';
import { splitToProto } from '../endpoints/split.mapping';
import type { RolloutEntity, RolloutPolicyEntity } from './rollout.entity';

export function policyToProto(policy: RolloutPolicyEntity): RolloutPolicy {
  return create(RolloutPolicySchema, {
    follow: `models:/${policy.modelName}@${policy.alias}`,
    canaryPercent: policy.canaryPercent,
    bakeTimeMs: BigInt(policy.bakeTimeMs),
    guards: { maxErrorPercent: policy.maxErrorPercent, maxP99LatencyMs: BigInt(policy.maxP99LatencyMs), minRequests: BigInt(policy.minRequests) },
  });
}

export function rolloutToProto(rollout: RolloutEntity): Rollout {
  return create(RolloutSchema, {
    id: rollout.id,
    endpointId: rollout.endpointId,
    stage: RolloutStage[rollout.stage],
    modelVersion: BigInt(rollout.modelVersion),
    candidateRevisionId: rollout.candidateRevisionId,
    previousTraffic: rollout.previousTraffic ? splitToProto(rollout.previousTraffic) : undefined,
    startTime: rollout.startedAt ? timestampFromMs(rollout.startedAt) : undefined,
    decideTime: rollout.decidedAt ? timestampFromMs(rollout.decidedAt) : undefined,
    reason: rollout.reason,
    requests: BigInt(rollout.requests),
    errors: BigInt(rollout.errors),
  });
}

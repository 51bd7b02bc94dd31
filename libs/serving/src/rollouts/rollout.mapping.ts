import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { RolloutPolicySchema, RolloutSchema, RolloutStage, type Rollout, type RolloutPolicy } from '@trellis/proto';
import { splitToProto } from '../endpoints/split.mapping';
import type { PolicyInput } from './rollout-policy';
import type { RolloutEntity, RolloutPolicyEntity } from './rollout.entity';

export function policyToProto(policy: RolloutPolicyEntity): RolloutPolicy {
  return create(RolloutPolicySchema, {
    follow: `models:/${policy.modelName}@${policy.alias}`,
    canaryPercent: policy.canaryPercent,
    bakeTimeMs: BigInt(policy.bakeTimeMs),
    guards: { maxErrorPercent: policy.maxErrorPercent, maxP99LatencyMs: BigInt(policy.maxP99LatencyMs), minRequests: BigInt(policy.minRequests) },
    driftMonitor: policy.driftMonitor,
  });
}

/** A policy as a request carries it, in numbers; int64s beyond 2^53 become unsafe integers, which `policyOf` refuses. */
export function policyFromProto(policy: RolloutPolicy): PolicyInput {
  return {
    follow: policy.follow,
    canaryPercent: policy.canaryPercent,
    bakeTimeMs: Number(policy.bakeTimeMs),
    maxErrorPercent: policy.guards?.maxErrorPercent ?? 0,
    maxP99LatencyMs: Number(policy.guards?.maxP99LatencyMs ?? 0n),
    minRequests: Number(policy.guards?.minRequests ?? 0n),
    driftMonitor: policy.driftMonitor,
  };
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

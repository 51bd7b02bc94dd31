import { type Caller, checkLength, checkNoControlCharacters, excerpt, InvalidArgumentError } from '@trellis/platform';
import type { EndpointEntity } from '../endpoints/endpoint.entity';
import { parseModelRef } from '../endpoints/model-ref';
import type { RolloutPolicyEntity } from './rollout.entity';

/** A policy as a caller sets it (SetRolloutPolicy, or CreateEndpoint with the endpoint). */
export interface PolicyInput {
  /** models:/<name>@<alias>. */
  follow: string;
  canaryPercent: number;
  bakeTimeMs: number;
  maxErrorPercent: number;
  maxP99LatencyMs: number;
  minRequests: number;
  /** The monitor whose dataset drift rolls a canary back; empty for none. */
  driftMonitor: string;
}

/** Limits as RolloutPolicy and RolloutGuards declare them. */
const LIMITS = { bakeTimeMs: 7 * 24 * 3600_000, maxP99LatencyMs: 3_600_000, minRequests: 1_000_000_000, driftMonitor: 128 };

/** The endpoint's policy after checking each field, INVALID_ARGUMENT naming the one out of range as `<field>.<its name>`. */
export function policyOf(caller: Caller, endpoint: Pick<EndpointEntity, 'id' | 'name' | 'projectId'>, input: PolicyInput, field: string): RolloutPolicyEntity {
  const ref = parseModelRef(input.follow, `${field}.follow`);
  if (ref.alias === undefined) throw new InvalidArgumentError(`"${excerpt(input.follow)}" names a version; follow an alias, as models:/<name>@<alias>`, `${field}.follow`);
  const whole = (value: number, min: number, max: number, name: string) => {
    if (!Number.isSafeInteger(value) || value < min || value > max) throw new InvalidArgumentError(`must be ${min} to ${max}, not ${value}`, name);
  };
  whole(input.canaryPercent, 1, 99, `${field}.canary_percent`);
  whole(input.bakeTimeMs, 1, LIMITS.bakeTimeMs, `${field}.bake_time_ms`);
  whole(input.maxP99LatencyMs, 0, LIMITS.maxP99LatencyMs, `${field}.guards.max_p99_latency_ms`);
  whole(input.minRequests, 0, LIMITS.minRequests, `${field}.guards.min_requests`);
  if (!Number.isFinite(input.maxErrorPercent) || input.maxErrorPercent < 0 || input.maxErrorPercent > 100) {
    throw new InvalidArgumentError(`must be 0 to 100, not ${input.maxErrorPercent}`, `${field}.guards.max_error_percent`);
  }
  checkLength(input.driftMonitor, LIMITS.driftMonitor, `${field}.drift_monitor`);
  checkNoControlCharacters(input.driftMonitor, `${field}.drift_monitor`);
  return {
    endpointId: endpoint.id,
    endpointName: endpoint.name,
    projectId: endpoint.projectId,
    modelName: ref.modelName,
    alias: ref.alias,
    canaryPercent: input.canaryPercent,
    bakeTimeMs: input.bakeTimeMs,
    maxErrorPercent: input.maxErrorPercent,
    maxP99LatencyMs: input.maxP99LatencyMs,
    minRequests: input.minRequests,
    driftMonitor: input.driftMonitor,
    creatorId: caller.authenticated.id,
    updatedAt: Date.now(),
  };
}

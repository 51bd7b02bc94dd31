import { epochMillis } from '@trellis/platform';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { StoredSplit } from '../endpoints/traffic';

/** How an endpoint follows a registry alias: one row per endpoint that asked for progressive rollouts. */
@Entity('rollout_policies')
export class RolloutPolicyEntity {
  @PrimaryColumn('varchar', { name: 'endpoint_id', length: 36 })
  endpointId!: string;

  /** Endpoint names never change: events name it without reading the endpoint. */
  @Column('varchar', { name: 'endpoint_name', length: 128 })
  endpointName!: string;

  @Column('varchar', { name: 'project_id', length: 64 })
  projectId!: string;

  /** The registered model whose alias is followed. */
  @Column('varchar', { name: 'model_name', length: 256 })
  modelName!: string;

  @Column('varchar', { length: 255 })
  alias!: string;

  @Column('integer', { name: 'canary_percent' })
  canaryPercent!: number;

  @Column('bigint', { name: 'bake_time_ms', transformer: epochMillis })
  bakeTimeMs!: number;

  /** 0: not checked. */
  @Column('double precision', { name: 'max_error_percent' })
  maxErrorPercent!: number;

  /** 0: not checked. */
  @Column('bigint', { name: 'max_p99_latency_ms', transformer: epochMillis })
  maxP99LatencyMs!: number;

  @Column('bigint', { name: 'min_requests', transformer: epochMillis })
  minRequests!: number;

  /** The monitor (monitoring) whose dataset drift in a canary's window rolls the canary back; empty for none. */
  @Column('varchar', { name: 'drift_monitor', length: 128 })
  driftMonitor!: string;

  /** Who set the policy: rollouts act on their behalf. */
  @Column('varchar', { name: 'creator_id', length: 256 })
  creatorId!: string;

  @Column('bigint', { name: 'updated_at', transformer: epochMillis })
  updatedAt!: number;
}

/** Where a rollout stands, as RolloutStage names it without its prefix. */
export type RolloutStageName = 'PENDING' | 'CANARY' | 'PROMOTED' | 'ROLLED_BACK' | 'ABORTED' | 'FAILED';

/** Stages a rollout is still in progress at. */
export const LIVE_STAGES: readonly RolloutStageName[] = ['PENDING', 'CANARY'];

/** One progressive rollout of an endpoint, from the alias move that started it to its decision. */
@Entity('rollouts')
export class RolloutEntity {
  @PrimaryColumn('varchar', { length: 36 })
  id!: string;

  @Column('varchar', { name: 'endpoint_id', length: 36 })
  endpointId!: string;

  @Column('varchar', { name: 'endpoint_name', length: 128 })
  endpointName!: string;

  @Column('varchar', { name: 'project_id', length: 64 })
  projectId!: string;

  /** Which alias move started it (model, alias, version and time of the change): a replayed move finds its rollout here. */
  @Column('varchar', { name: 'trigger_key', length: 600 })
  triggerKey!: string;

  @Column('varchar', { length: 16 })
  stage!: RolloutStageName;

  @Column('varchar', { name: 'model_name', length: 256 })
  modelName!: string;

  @Column('integer', { name: 'model_version' })
  modelVersion!: number;

  /** Empty until deployed. */
  @Column('varchar', { name: 'candidate_revision_id', length: 36 })
  candidateRevisionId!: string;

  /** The split before the canary, which a rollback restores; null until deployed. */
  @Column('simple-json', { name: 'previous_traffic', nullable: true })
  previousTraffic!: StoredSplit | null;

  /** Who moved the alias: the rollout acts on their behalf. */
  @Column('varchar', { name: 'actor_id', length: 256 })
  actorId!: string;

  @Column('varchar', { name: 'request_id', length: 128 })
  requestId!: string;

  @Column('bigint', { name: 'created_at', transformer: epochMillis })
  createdAt!: number;

  /** When the canary took its first share of traffic; 0 before. */
  @Column('bigint', { name: 'started_at', transformer: epochMillis })
  startedAt!: number;

  /** 0 until decided. */
  @Column('bigint', { name: 'decided_at', transformer: epochMillis })
  decidedAt!: number;

  @Column('text')
  reason!: string;

  @Column('integer')
  requests!: number;

  @Column('integer')
  errors!: number;

  /**
   * Why the policy's drift monitor condemned the canary (a window with its rows scored as dataset
   * drift), as its rollback gives it; empty while none did. The worker rolls it back on its next pass.
   */
  @Column('text', { name: 'drift_finding' })
  driftFinding!: string;
}

/**
 * What one replica's requests to a baking canary came to, since the canary started: each replica
 * writes its own row (as `CanaryReports` reports it) and the deciding worker adds them up.
 */
@Entity('rollout_canary_reports')
export class CanaryReportEntity {
  @PrimaryColumn('varchar', { name: 'rollout_id', length: 36 })
  rolloutId!: string;

  /** The replica that answered them: a new id each time a replica starts. */
  @PrimaryColumn('varchar', { name: 'replica_id', length: 36 })
  replicaId!: string;

  @Column('integer')
  requests!: number;

  @Column('integer')
  errors!: number;

  /** The 99th percentile of the replica's latencies of those requests; 0 when it had none. */
  @Column('double precision', { name: 'p99_ms' })
  p99Ms!: number;

  @Column('bigint', { name: 'reported_at', transformer: epochMillis })
  reportedAt!: number;
}

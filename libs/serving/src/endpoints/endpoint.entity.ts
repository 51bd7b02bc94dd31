import { epochMillis } from '@trellis/platform';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { StoredSplit } from './traffic';

/** An endpoint: a name in a project, its batching, and how its traffic is split between its revisions. */
@Entity('endpoints')
export class EndpointEntity {
  /** A UUID, the id clients name it by. */
  @PrimaryColumn('varchar', { length: 36 })
  id!: string;

  @Column('varchar', { name: 'project_id', length: 64 })
  projectId!: string;

  /** Unique in the project; it never changes. */
  @Column('varchar', { length: 128 })
  name!: string;

  @Column('text')
  description!: string;

  /** 0 or 1: no batching. */
  @Column('integer', { name: 'max_batch_size' })
  maxBatchSize!: number;

  @Column('integer', { name: 'max_queue_delay_us' })
  maxQueueDelayUs!: number;

  @Column('simple-json')
  traffic!: StoredSplit;

  /** What RollbackEndpoint restores; null until the traffic first changes. */
  @Column('simple-json', { name: 'previous_traffic', nullable: true })
  previousTraffic!: StoredSplit | null;

  /** Revisions deployed so far: the next one's number is one more. */
  @Column('integer', { name: 'revision_count' })
  revisionCount!: number;

  @Column('varchar', { name: 'creator_id', length: 256 })
  creatorId!: string;

  @Column('bigint', { name: 'created_at', transformer: epochMillis })
  createdAt!: number;

  @Column('bigint', { name: 'updated_at', transformer: epochMillis })
  updatedAt!: number;
}

/** The states of a revision's runtime, as RevisionState names them without their prefix. */
export type RevisionStateName = 'PENDING' | 'READY' | 'FAILED';

/** What each replica of a revision reserves; 0 means the runtime's default. */
export interface StoredResources {
  cpuMillicores: number;
  memoryBytes: number;
  gpus: number;
  gpuType: string;
}

/** A revision: a registry version, resolved at deploy time, on a runtime instance. Only its state changes. */
@Entity('revisions')
export class RevisionEntity {
  @PrimaryColumn('varchar', { length: 36 })
  id!: string;

  @Column('varchar', { name: 'endpoint_id', length: 36 })
  endpointId!: string;

  /** From 1 per endpoint. */
  @Column('integer')
  number!: number;

  /** The reference as the caller gave it. */
  @Column('varchar', { name: 'model_ref', length: 600 })
  modelRef!: string;

  @Column('varchar', { name: 'model_name', length: 256 })
  modelName!: string;

  @Column('integer', { name: 'model_version' })
  modelVersion!: number;

  /** The alias the reference named; empty for a reference by number. */
  @Column('varchar', { name: 'resolved_alias', length: 255 })
  resolvedAlias!: string;

  @Column('varchar', { name: 'run_id', length: 256 })
  runId!: string;

  @Column('text', { name: 'artifact_uri' })
  artifactUri!: string;

  @Column('varchar', { name: 'model_format', length: 64 })
  modelFormat!: string;

  @Column('varchar', { length: 63 })
  runtime!: string;

  @Column('integer')
  replicas!: number;

  @Column('simple-json')
  resources!: StoredResources;

  @Column('varchar', { length: 16 })
  state!: RevisionStateName;

  @Column('text', { name: 'state_message' })
  stateMessage!: string;

  @Column('varchar', { name: 'creator_id', length: 256 })
  creatorId!: string;

  @Column('bigint', { name: 'created_at', transformer: epochMillis })
  createdAt!: number;
}

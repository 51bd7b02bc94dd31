import { epochMillis } from '@trellis/platform';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { LifecycleStageName } from '../experiments/experiment.entity';

/** A run's status as stored: MLflow's names. */
export type RunStatusName = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';

/** The statuses a run ends in; reaching one publishes run.finished. */
export const TERMINAL_STATUSES: readonly RunStatusName[] = ['FINISHED', 'FAILED', 'KILLED'];

/** One run of an experiment. */
@Entity('runs')
export class RunEntity {
  /** 32 hexadecimal digits, as MLflow's run ids. */
  @PrimaryColumn('varchar', { length: 32 })
  id!: string;

  @Column('integer', { name: 'experiment_id' })
  experimentId!: number;

  @Column('varchar', { name: 'project_id', length: 64 })
  projectId!: string;

  @Column('varchar', { length: 250 })
  name!: string;

  @Column('varchar', { name: 'user_id', length: 256 })
  userId!: string;

  @Column('varchar', { length: 16 })
  status!: RunStatusName;

  @Column('bigint', { name: 'start_time', transformer: epochMillis })
  startTime!: number;

  @Column('bigint', { name: 'end_time', nullable: true, transformer: epochMillis })
  endTime!: number | null;

  @Column('text', { name: 'artifact_uri' })
  artifactUri!: string;

  /** The storage instance holding its artifacts, fixed when the run is created. */
  @Column('varchar', { name: 'artifact_store', length: 64 })
  artifactStore!: string;

  /** The KMS instance that encrypts its artifacts, fixed when the run is created; null: stored in the clear. */
  @Column('varchar', { name: 'artifact_kms', length: 64, nullable: true })
  artifactKms!: string | null;

  @Column('varchar', { name: 'lifecycle_stage', length: 16 })
  lifecycleStage!: LifecycleStageName;

  @Column('varchar', { name: 'parent_run_id', length: 32, nullable: true })
  parentRunId!: string | null;

  @Column('boolean', { name: 'deleted_with_experiment', default: false })
  deletedWithExperiment!: boolean;
}

/** A param of a run; immutable once logged. */
@Entity('run_params')
export class RunParamEntity {
  @PrimaryColumn('varchar', { name: 'run_id', length: 32 })
  runId!: string;

  @PrimaryColumn('varchar', { length: 250 })
  key!: string;

  @Column('varchar', { length: 6000 })
  value!: string;
}

/** A tag of a run; the last write wins. */
@Entity('run_tags')
export class RunTagEntity {
  @PrimaryColumn('varchar', { name: 'run_id', length: 32 })
  runId!: string;

  @PrimaryColumn('varchar', { length: 250 })
  key!: string;

  @Column('varchar', { length: 8000 })
  value!: string;
}

/** A dataset a run used, in the order logged. */
@Entity('run_inputs')
export class RunInputEntity {
  @PrimaryColumn('varchar', { name: 'run_id', length: 32 })
  runId!: string;

  @PrimaryColumn('integer')
  position!: number;

  @Column('varchar', { length: 500 })
  name!: string;

  @Column('varchar', { length: 36 })
  digest!: string;

  @Column('varchar', { name: 'source_type', length: 64 })
  sourceType!: string;

  @Column('text')
  source!: string;

  @Column('text')
  schema!: string;

  @Column('text')
  profile!: string;

  /** The `mlflow.data.context` tag (training, validation, ...), kept apart for search. */
  @Column('varchar', { length: 500, nullable: true })
  context!: string | null;

  @Column('simple-json')
  tags!: Array<{ key: string; value: string }>;
}

import { epochMillis } from '@trellis/platform';
import { Column, Entity, Index, PrimaryGeneratedColumn, PrimaryColumn } from 'typeorm';

/** A logged (sampled) prediction, kept for TracePrediction until the retention passes; its tensors travel only in the event. */
@Entity('predictions')
@Index('predictions_request_id', ['requestId'])
@Index('predictions_answered_at', ['answeredAt'])
export class PredictionEntity {
  @PrimaryGeneratedColumn('increment')
  seq!: number;

  @Column('varchar', { name: 'request_id', length: 256 })
  requestId!: string;

  @Column('varchar', { name: 'project_id', length: 64 })
  projectId!: string;

  @Column('varchar', { name: 'endpoint_id', length: 36 })
  endpointId!: string;

  @Column('varchar', { name: 'endpoint_name', length: 128 })
  endpointName!: string;

  @Column('varchar', { name: 'revision_id', length: 36 })
  revisionId!: string;

  @Column('bigint', { name: 'answered_at', transformer: epochMillis })
  answeredAt!: number;

  @Column('bigint', { name: 'latency_us', transformer: epochMillis })
  latencyUs!: number;
}

/** An endpoint's own logging share; an endpoint without a row follows the service default. */
@Entity('prediction_logging')
export class PredictionLoggingEntity {
  @PrimaryColumn('varchar', { name: 'endpoint_id', length: 36 })
  endpointId!: string;

  @Column('varchar', { name: 'project_id', length: 64 })
  projectId!: string;

  @Column('double precision', { name: 'sample_share' })
  sampleShare!: number;
}

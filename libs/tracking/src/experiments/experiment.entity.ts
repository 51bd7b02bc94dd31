import { epochMillis } from '@trellis/platform';
import { Column, Entity, OneToMany, PrimaryColumn, PrimaryGeneratedColumn, ManyToOne, JoinColumn } from 'typeorm';

/** Whether an experiment or run is deleted; MLflow's lifecycle_stage values. */
export type LifecycleStageName = 'active' | 'deleted';

/** An experiment: runs grouped inside a project under a unique name. */
@Entity('experiments')
export class ExperimentEntity {
  /** Clients see it as a decimal string, as MLflow's experiment ids. */
  @PrimaryGeneratedColumn('increment')
  id!: number;

  @Column('varchar', { name: 'project_id', length: 64 })
  projectId!: string;

  @Column('varchar', { length: 500 })
  name!: string;

  @Column('text', { name: 'artifact_location' })
  artifactLocation!: string;

  @Column('varchar', { name: 'lifecycle_stage', length: 16 })
  lifecycleStage!: LifecycleStageName;

  @Column('bigint', { name: 'created_at', transformer: epochMillis })
  createdAt!: number;

  @Column('bigint', { name: 'updated_at', transformer: epochMillis })
  updatedAt!: number;

  @OneToMany(() => ExperimentTagEntity, (tag) => tag.experiment)
  tags?: ExperimentTagEntity[];
}

/** A tag on an experiment; the last write wins. */
@Entity('experiment_tags')
export class ExperimentTagEntity {
  @PrimaryColumn('integer', { name: 'experiment_id' })
  experimentId!: number;

  @PrimaryColumn('varchar', { length: 250 })
  key!: string;

  @Column('text')
  value!: string;

  @ManyToOne(() => ExperimentEntity, (experiment) => experiment.tags, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'experiment_id' })
  experiment?: ExperimentEntity;
}

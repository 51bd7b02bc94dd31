import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { AuthoredEntity } from '../common/authored.entity';

/** A registered model: a name in a project, under which numbered versions are kept. */
@Entity('registered_models')
export class RegisteredModelEntity extends AuthoredEntity {
  /** Internal; clients name a model by project and name, which a rename changes. */
  @PrimaryGeneratedColumn('increment')
  id!: number;

  @Column('varchar', { name: 'project_id', length: 64 })
  projectId!: string;

  @Column('varchar', { length: 256 })
  name!: string;

  @Column('text')
  description!: string;

  /** Aliases that only move with an approved governance approval. */
  @Column('simple-json', { name: 'protected_aliases' })
  protectedAliases!: string[];

  /** The highest version number issued; numbers are never reused, even after a delete. */
  @Column('integer', { name: 'latest_version' })
  latestVersion!: number;
}

/** A tag on a model; the last write wins. */
@Entity('model_tags')
export class ModelTagEntity {
  @PrimaryColumn('integer', { name: 'model_id' })
  modelId!: number;

  @PrimaryColumn('varchar', { length: 250 })
  key!: string;

  @Column('varchar', { length: 5000 })
  value!: string;
}

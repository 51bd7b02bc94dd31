import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Per-project settings of tracking: the storage instance that holds the artifacts of the project's new runs. */
@Entity('project_settings')
export class ProjectSettingsEntity {
  @PrimaryColumn('varchar', { name: 'project_id', length: 64 })
  projectId!: string;

  @Column('varchar', { name: 'artifact_store', length: 64 })
  artifactStore!: string;
}

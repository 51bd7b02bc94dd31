import { epochMillis } from '@trellis/platform';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A monitor: a name in a project, with a description. */
@Entity('monitors')
export class MonitorEntity {
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

  @Column('varchar', { name: 'creator_id', length: 256 })
  creatorId!: string;

  @Column('bigint', { name: 'created_at', transformer: epochMillis })
  createdAt!: number;

  @Column('bigint', { name: 'updated_at', transformer: epochMillis })
  updatedAt!: number;
}

import { epochMillis } from '@trellis/platform';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A dataset: a name in a project, with a description and tags. */
@Entity('datasets')
export class DatasetEntity {
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

  /** Key/value pairs, stored as one JSON array. */
  @Column('simple-json')
  tags!: DatasetTag[];

  @Column('varchar', { name: 'creator_id', length: 256 })
  creatorId!: string;

  @Column('bigint', { name: 'created_at', transformer: epochMillis })
  createdAt!: number;

  @Column('bigint', { name: 'updated_at', transformer: epochMillis })
  updatedAt!: number;

  /** The highest version number given so far (0 before the first commit); numbers are never reused. */
  @Column('bigint', { name: 'last_version', transformer: epochMillis })
  lastVersion!: number;

  /** When the dataset was marked deleted; null while it is live. */
  @Column('bigint', { name: 'deleted_at', nullable: true, transformer: epochMillis })
  deletedAt!: number | null;
}

/** One key/value tag of a dataset. */
export interface DatasetTag {
  key: string;
  value: string;
}

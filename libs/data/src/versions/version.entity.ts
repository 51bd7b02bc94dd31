import { epochMillis } from '@trellis/platform';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { DatasetEntity } from '../datasets/dataset.entity';

/** The kit's bigint column transformer: counts, sizes and numbers read back as numbers (all below 2^53). */
const asNumber = epochMillis;

/** One immutable version of a dataset: its number, lineage and totals; its files are {@link VersionFileEntity} rows. */
@Entity('dataset_versions')
export class VersionEntity {
  /** A UUID, internal: clients name a version by its dataset and number. */
  @PrimaryColumn('varchar', { length: 36 })
  id!: string;

  @Column('varchar', { name: 'dataset_id', length: 36 })
  datasetId!: string;

  /** From 1 in its dataset, never reused. */
  @Column('bigint', { transformer: asNumber })
  number!: number;

  /** 0 for none. */
  @Column('bigint', { name: 'parent_number', transformer: asNumber })
  parentNumber!: number;

  @Column('text')
  message!: string;

  @Column('varchar', { name: 'author_id', length: 256 })
  authorId!: string;

  @Column('bigint', { name: 'created_at', transformer: epochMillis })
  createdAt!: number;

  @Column('bigint', { name: 'file_count', transformer: asNumber })
  fileCount!: number;

  @Column('bigint', { name: 'total_bytes', transformer: asNumber })
  totalBytes!: number;

  /** The storage instance its blobs are in, the project's choice at commit, kept for life. */
  @Column('varchar', { name: 'store_name', length: 128 })
  storeName!: string;

  @Column('bigint', { name: 'deleted_at', nullable: true, transformer: epochMillis })
  deletedAt!: number | null;
}

/** One file of a version's manifest. */
@Entity('dataset_version_files')
export class VersionFileEntity {
  @PrimaryColumn('varchar', { name: 'version_id', length: 36 })
  versionId!: string;

  @PrimaryColumn('varchar', { length: 1024 })
  path!: string;

  @Column('bigint', { transformer: asNumber })
  size!: number;

  @Column('varchar', { length: 64 })
  sha256!: string;

  @Column('varchar', { name: 'media_type', length: 255 })
  mediaType!: string;
}

/** A tag of a dataset, naming one of its versions. */
@Entity('dataset_version_tags')
export class VersionTagEntity {
  @PrimaryColumn('varchar', { name: 'dataset_id', length: 36 })
  datasetId!: string;

  @PrimaryColumn('varchar', { length: 128 })
  tag!: string;

  @Column('varchar', { name: 'version_id', length: 36 })
  versionId!: string;

  @Column('bigint', { name: 'updated_at', transformer: epochMillis })
  updatedAt!: number;
}

/** A version with its dataset and tags, as calls return it. */
export interface VersionView {
  version: VersionEntity;
  dataset: DatasetEntity;
  tags: string[];
}

import { epochMillis } from '@trellis/platform';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Where a blob's profile stands. */
export type BlobProfileStatus = 'pending' | 'ready' | 'failed';

/** The profile of one tabular blob read as one format; versions share it through their files' digests. */
@Entity('data_blob_profiles')
export class BlobProfileEntity {
  @PrimaryColumn('varchar', { length: 64 })
  sha256!: string;

  /** `csv`, `jsonl` or `parquet`, from the extension of the path that named the blob. */
  @PrimaryColumn('varchar', { length: 16 })
  format!: string;

  /** The storage instance to read the blob from (the first version's that named it). */
  @Column('varchar', { name: 'store_name', length: 128 })
  storeName!: string;

  @Column('varchar', { length: 16 })
  status!: BlobProfileStatus;

  /** Why a profile failed, or the first invalid row of a ready one. */
  @Column('text', { default: '' })
  message!: string;

  /** The TableProfile as JSON once ready. */
  @Column('text', { nullable: true })
  profile!: string | null;

  @Column('integer', { default: 0 })
  attempts!: number;

  @Column('bigint', { name: 'updated_at', transformer: epochMillis })
  updatedAt!: number;
}

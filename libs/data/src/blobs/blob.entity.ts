import { epochMillis } from '@trellis/platform';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A blob stored in one storage instance under its sha256: one row per instance and digest,
 * whatever datasets or versions its file appears in.
 */
@Entity('blobs')
export class BlobEntity {
  /** The storage instance (a name of the data service's `storage` instances). */
  @PrimaryColumn('varchar', { name: 'store_name', length: 128 })
  storeName!: string;

  /** SHA-256 of the content, 64 lowercase hex characters. */
  @PrimaryColumn('varchar', { length: 64 })
  sha256!: string;

  @Column('bigint', { transformer: epochMillis })
  size!: number;

  @Column('bigint', { name: 'created_at', transformer: epochMillis })
  createdAt!: number;

  /** When a commit last named the blob (or it was stored); garbage collection spares blobs younger than its grace period. */
  @Column('bigint', { name: 'last_referenced_at', transformer: epochMillis })
  lastReferencedAt!: number;
}

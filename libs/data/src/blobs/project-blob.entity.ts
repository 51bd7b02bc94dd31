import { epochMillis } from '@trellis/platform';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A blob a project holds in a storage instance: the project uploaded its bytes (or proved it has
 * them) there. Projects sharing an instance share the bytes, never the knowledge of them: a project
 * finds, names in a commit and downloads only the digests it holds.
 */
@Entity('project_blobs')
export class ProjectBlobEntity {
  @PrimaryColumn('varchar', { name: 'project_id', length: 64 })
  projectId!: string;

  /** The storage instance (a name of the data service's `storage` instances). */
  @PrimaryColumn('varchar', { name: 'store_name', length: 128 })
  storeName!: string;

  /** SHA-256 of the content, 64 lowercase hex characters. */
  @PrimaryColumn('varchar', { length: 64 })
  sha256!: string;

  @Column('bigint', { name: 'created_at', transformer: epochMillis })
  createdAt!: number;

  /** When a commit of the project last named the blob (or the project uploaded it); garbage collection spares rows younger than its grace period. */
  @Column('bigint', { name: 'last_referenced_at', transformer: epochMillis })
  lastReferencedAt!: number;
}

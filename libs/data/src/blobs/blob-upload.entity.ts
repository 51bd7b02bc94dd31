import { epochMillis } from '@trellis/platform';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * An upload of one blob in parts or through a presigned URL, open until it completes, is aborted
 * or expires. Its bytes wait under a staging key of its instance, never under the blob's key.
 */
@Entity('blob_uploads')
export class BlobUploadEntity {
  /** A random UUID: knowing it is not enough, the caller must also be an editor of the project. */
  @PrimaryColumn('varchar', { length: 36 })
  id!: string;

  @Column('varchar', { name: 'project_id', length: 64 })
  projectId!: string;

  /** The storage instance, chosen when the upload started. */
  @Column('varchar', { name: 'store_name', length: 128 })
  storeName!: string;

  @Column('varchar', { length: 64 })
  sha256!: string;

  @Column('bigint', { transformer: epochMillis })
  size!: number;

  /** The storage plugin's multipart upload id; empty for an upload through a presigned URL. */
  @Column('varchar', { name: 'storage_upload_id', length: 1024 })
  storageUploadId!: string;

  @Column('varchar', { name: 'creator_id', length: 256 })
  creatorId!: string;

  @Column('bigint', { name: 'created_at', transformer: epochMillis })
  createdAt!: number;

  @Column('bigint', { name: 'expires_at', transformer: epochMillis })
  expiresAt!: number;
}

/** A part an upload holds, as the storage plugin acknowledged it. */
@Entity('blob_upload_parts')
export class BlobUploadPartEntity {
  @PrimaryColumn('varchar', { name: 'upload_id', length: 36 })
  uploadId!: string;

  @PrimaryColumn('integer', { name: 'part_number' })
  partNumber!: number;

  @Column('varchar', { length: 1024 })
  etag!: string;

  @Column('bigint', { transformer: epochMillis })
  size!: number;
}

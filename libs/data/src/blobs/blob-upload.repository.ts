import { Injectable } from '@nestjs/common';
import { Dialect, tableOf } from '@trellis/platform';
import { DataSource, LessThan, type EntityManager } from 'typeorm';
import { BlobUploadEntity, BlobUploadPartEntity } from './blob-upload.entity';

/** Reads and writes open uploads and their parts; the only part of the feature that knows their tables. */
@Injectable()
export class BlobUploadRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` in one transaction. */
  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  async insert(upload: BlobUploadEntity): Promise<void> {
    await this.transaction((tx) => tx.insert(BlobUploadEntity, upload));
  }

  /** The upload with this id, or null. */
  find(id: string): Promise<BlobUploadEntity | null> {
    return this.transaction((tx) => tx.findOneBy(BlobUploadEntity, { id }));
  }

  /** The upload's parts by number. */
  parts(uploadId: string): Promise<BlobUploadPartEntity[]> {
    return this.transaction((tx) => tx.find(BlobUploadPartEntity, { where: { uploadId }, order: { partNumber: 'ASC' } }));
  }

  /** Records a part, replacing the record of the same number. */
  async recordPart(part: BlobUploadPartEntity): Promise<void> {
    await this.transaction(async (tx) => {
      const sql = Dialect.of(tx).upsert(tableOf(tx, BlobUploadPartEntity), ['upload_id', 'part_number', 'etag', 'size'], 1, ['upload_id', 'part_number'], ['etag = excluded.etag', 'size = excluded.size']);
      await tx.query(sql, [part.uploadId, part.partNumber, part.etag, part.size]);
    });
  }

  /** Forgets the upload and its parts; true when there was one to forget (so that only one caller finishes it). */
  async delete(id: string): Promise<boolean> {
    return this.transaction(async (tx) => {
      await tx.delete(BlobUploadPartEntity, { uploadId: id });
      const result = await tx.delete(BlobUploadEntity, { id });
      return (result.affected ?? 0) > 0;
    });
  }

  /** Up to `limit` uploads that expired before `now`, oldest first. */
  expired(now: number, limit: number): Promise<BlobUploadEntity[]> {
    return this.transaction((tx) => tx.find(BlobUploadEntity, { where: { expiresAt: LessThan(now) }, order: { expiresAt: 'ASC' }, take: limit }));
  }
}

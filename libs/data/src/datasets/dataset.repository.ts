import { Injectable } from '@nestjs/common';
import { Dialect, tableOf } from '@trellis/platform';
import { DataSource, IsNull, MoreThan, type EntityManager } from 'typeorm';
import { VersionEntity, VersionTagEntity } from '../versions/version.entity';
import { DatasetEntity } from './dataset.entity';

/** Reads and writes datasets; the only part of the feature that knows the database. */
@Injectable()
export class DatasetRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` in one transaction; pass its manager to the writes and to `Outbox.publish`. */
  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** The live dataset with this id, read in a transaction of its own (or in `tx`). */
  findById(id: string, tx?: EntityManager): Promise<DatasetEntity | null> {
    // On SQLite every caller shares one connection: outside a transaction a read could see another call's uncommitted write.
    const read = (manager: EntityManager) => manager.findOneBy(DatasetEntity, { id, deletedAt: IsNull() });
    return tx ? read(tx) : this.transaction(read);
  }

  /** The live dataset of that name in the project, in `tx`. */
  findByName(tx: EntityManager, projectId: string, name: string): Promise<DatasetEntity | null> {
    return tx.findOneBy(DatasetEntity, { projectId, name, deletedAt: IsNull() });
  }

  /** The live dataset with this id, its row locked until `tx` ends (PostgreSQL; SQLite runs one write transaction at a time). */
  lockById(tx: EntityManager, id: string): Promise<DatasetEntity | null> {
    return tx.findOne(DatasetEntity, { where: { id, deletedAt: IsNull() }, ...Dialect.of(tx).lockForUpdate<DatasetEntity>() });
  }

  nameTaken(tx: EntityManager, projectId: string, name: string): Promise<boolean> {
    return tx.existsBy(DatasetEntity, { projectId, name, deletedAt: IsNull() });
  }

  countIn(tx: EntityManager, projectId: string): Promise<number> {
    return tx.countBy(DatasetEntity, { projectId, deletedAt: IsNull() });
  }

  /** The number of the newest live version of each of `ids` that has one. */
  async latestVersions(ids: readonly string[], tx?: EntityManager): Promise<Map<string, number>> {
    if (ids.length === 0) return new Map();
    const read = async (manager: EntityManager) => {
      const parameters = Dialect.of(manager).parameters();
      const sql = `SELECT dataset_id, MAX(number) AS latest FROM ${tableOf(manager, VersionEntity)} WHERE deleted_at IS NULL AND ${parameters.inList('dataset_id', ids)} GROUP BY dataset_id`;
      const rows: Array<{ dataset_id: string; latest: string | number }> = await manager.query(sql, parameters.values);
      return new Map(rows.map((row) => [row.dataset_id, Number(row.latest)]));
    };
    return tx ? read(tx) : this.transaction(read);
  }

  async insert(tx: EntityManager, dataset: DatasetEntity): Promise<void> {
    await tx.insert(DatasetEntity, dataset);
  }

  async update(tx: EntityManager, id: string, changes: Partial<Omit<DatasetEntity, 'id'>>): Promise<void> {
    await tx.update(DatasetEntity, { id }, changes);
  }

  /** Marks the dataset and its live versions deleted at `now` and drops its tags; garbage collection frees their blobs later. */
  async markDeleted(tx: EntityManager, id: string, now: number): Promise<void> {
    await tx.update(DatasetEntity, { id }, { deletedAt: now, updatedAt: now });
    await tx.update(VersionEntity, { datasetId: id, deletedAt: IsNull() }, { deletedAt: now });
    await tx.delete(VersionTagEntity, { datasetId: id });
  }

  /** Up to `limit` of the project's live datasets in name order, after the name `after` (from the first without one). */
  page(projectId: string, after: string | undefined, limit: number): Promise<DatasetEntity[]> {
    const where = after === undefined ? { projectId, deletedAt: IsNull() } : { projectId, deletedAt: IsNull(), name: MoreThan(after) };
    return this.transaction((tx) => tx.find(DatasetEntity, { where, order: { name: 'ASC' }, take: limit }));
  }
}

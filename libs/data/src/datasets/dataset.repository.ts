import { Injectable } from '@nestjs/common';
import { Dialect } from '@trellis/platform';
import { DataSource, MoreThan, type EntityManager } from 'typeorm';
import { DatasetEntity } from './dataset.entity';

/** Reads and writes datasets; the only part of the feature that knows the database. */
@Injectable()
export class DatasetRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` in one transaction; pass its manager to the writes and to `Outbox.publish`. */
  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** The dataset with this id, read in a transaction of its own. */
  findById(id: string): Promise<DatasetEntity | null> {
    // On SQLite every caller shares one connection: outside a transaction a read could see another call's uncommitted write.
    return this.transaction((tx) => tx.findOneBy(DatasetEntity, { id }));
  }

  /** The dataset with this id, its row locked until `tx` ends (PostgreSQL; SQLite runs one write transaction at a time). */
  lockById(tx: EntityManager, id: string): Promise<DatasetEntity | null> {
    return tx.findOne(DatasetEntity, { where: { id }, ...Dialect.of(tx).lockForUpdate<DatasetEntity>() });
  }

  nameTaken(tx: EntityManager, projectId: string, name: string): Promise<boolean> {
    return tx.existsBy(DatasetEntity, { projectId, name });
  }

  countIn(tx: EntityManager, projectId: string): Promise<number> {
    return tx.countBy(DatasetEntity, { projectId });
  }

  async insert(tx: EntityManager, dataset: DatasetEntity): Promise<void> {
    await tx.insert(DatasetEntity, dataset);
  }

  async update(tx: EntityManager, id: string, changes: Partial<Omit<DatasetEntity, 'id'>>): Promise<void> {
    await tx.update(DatasetEntity, { id }, changes);
  }

  async delete(tx: EntityManager, id: string): Promise<void> {
    await tx.delete(DatasetEntity, { id });
  }

  /** Up to `limit` of the project's datasets in name order, after the name `after` (from the first without one). */
  page(projectId: string, after: string | undefined, limit: number): Promise<DatasetEntity[]> {
    const where = after === undefined ? { projectId } : { projectId, name: MoreThan(after) };
    return this.transaction((tx) => tx.find(DatasetEntity, { where, order: { name: 'ASC' }, take: limit }));
  }
}

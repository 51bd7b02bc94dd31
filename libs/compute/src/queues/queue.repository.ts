import { Injectable } from '@nestjs/common';
import { Dialect } from '@trellis/platform';
import { DataSource, MoreThan, type EntityManager } from 'typeorm';
import { QueueEntity } from './queue.entity';

/** Reads and writes queues; the only part of the feature that knows the database. */
@Injectable()
export class QueueRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` in one transaction; pass its manager to the writes and to `Outbox.publish`. */
  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** The queue with this id, read in a transaction of its own. */
  findById(id: string): Promise<QueueEntity | null> {
    // On SQLite every caller shares one connection: outside a transaction a read could see another call's uncommitted write.
    return this.transaction((tx) => tx.findOneBy(QueueEntity, { id }));
  }

  /** The queue with this id, its row locked until `tx` ends (PostgreSQL; SQLite runs one write transaction at a time). */
  lockById(tx: EntityManager, id: string): Promise<QueueEntity | null> {
    return tx.findOne(QueueEntity, { where: { id }, ...Dialect.of(tx).lockForUpdate<QueueEntity>() });
  }

  nameTaken(tx: EntityManager, projectId: string, name: string): Promise<boolean> {
    return tx.existsBy(QueueEntity, { projectId, name });
  }

  countIn(tx: EntityManager, projectId: string): Promise<number> {
    return tx.countBy(QueueEntity, { projectId });
  }

  async insert(tx: EntityManager, queue: QueueEntity): Promise<void> {
    await tx.insert(QueueEntity, queue);
  }

  async update(tx: EntityManager, id: string, changes: Partial<Omit<QueueEntity, 'id'>>): Promise<void> {
    await tx.update(QueueEntity, { id }, changes);
  }

  async delete(tx: EntityManager, id: string): Promise<void> {
    await tx.delete(QueueEntity, { id });
  }

  /** Up to `limit` of the project's queues in name order, after the name `after` (from the first without one). */
  page(projectId: string, after: string | undefined, limit: number): Promise<QueueEntity[]> {
    const where = after === undefined ? { projectId } : { projectId, name: MoreThan(after) };
    return this.transaction((tx) => tx.find(QueueEntity, { where, order: { name: 'ASC' }, take: limit }));
  }
}

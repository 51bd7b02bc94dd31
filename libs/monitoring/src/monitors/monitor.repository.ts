import { Injectable } from '@nestjs/common';
import { Dialect } from '@trellis/platform';
import { DataSource, MoreThan, type EntityManager } from 'typeorm';
import { MonitorEntity, MonitorReferenceEntity } from './monitor.entity';

/** Reads and writes monitors; the only part of the feature that knows the database. */
@Injectable()
export class MonitorRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` in one transaction; pass its manager to the writes and to `Outbox.publish`. */
  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** The monitor with this id, read in a transaction of its own. */
  findById(id: string): Promise<MonitorEntity | null> {
    // On SQLite every caller shares one connection: outside a transaction a read could see another call's uncommitted write.
    return this.transaction((tx) => tx.findOneBy(MonitorEntity, { id }));
  }

  /** The monitor with this id, its row locked until `tx` ends (PostgreSQL; SQLite runs one write transaction at a time). */
  lockById(tx: EntityManager, id: string): Promise<MonitorEntity | null> {
    return tx.findOne(MonitorEntity, { where: { id }, ...Dialect.of(tx).lockForUpdate<MonitorEntity>() });
  }

  nameTaken(tx: EntityManager, projectId: string, name: string): Promise<boolean> {
    return tx.existsBy(MonitorEntity, { projectId, name });
  }

  countIn(tx: EntityManager, projectId: string): Promise<number> {
    return tx.countBy(MonitorEntity, { projectId });
  }

  async insert(tx: EntityManager, monitor: MonitorEntity): Promise<void> {
    await tx.insert(MonitorEntity, monitor);
  }

  async update(tx: EntityManager, id: string, changes: Partial<Omit<MonitorEntity, 'id'>>): Promise<void> {
    await tx.update(MonitorEntity, { id }, changes);
  }

  /** Writes every column of the monitor as it is now (a monitor fitted after it was created). */
  async save(tx: EntityManager, monitor: MonitorEntity): Promise<void> {
    await tx.save(MonitorEntity, monitor);
  }

  /** Removes the monitor and its fitted references. */
  async delete(tx: EntityManager, id: string): Promise<void> {
    await tx.delete(MonitorReferenceEntity, { monitorId: id });
    await tx.delete(MonitorEntity, { id });
  }

  /** Replaces the monitor's fitted references with `references` (none: removes them). */
  async replaceReferences(tx: EntityManager, monitorId: string, references: MonitorReferenceEntity[]): Promise<void> {
    await tx.delete(MonitorReferenceEntity, { monitorId });
    if (references.length) await tx.insert(MonitorReferenceEntity, references);
  }

  /** The monitor's fitted references, by column. */
  references(tx: EntityManager, monitorId: string): Promise<MonitorReferenceEntity[]> {
    return tx.find(MonitorReferenceEntity, { where: { monitorId }, order: { column: 'ASC' } });
  }

  /** Monitors still PENDING, oldest first (at most `limit`): those whose reference waits for something. */
  pendingProfiles(limit = 100): Promise<MonitorEntity[]> {
    return this.transaction((tx) => tx.find(MonitorEntity, { where: { state: 'pending' }, order: { createdAt: 'ASC' }, take: limit }));
  }

  /** Up to `limit` of the project's monitors in name order, after the name `after` (from the first without one). */
  page(projectId: string, after: string | undefined, limit: number): Promise<MonitorEntity[]> {
    const where = after === undefined ? { projectId } : { projectId, name: MoreThan(after) };
    return this.transaction((tx) => tx.find(MonitorEntity, { where, order: { name: 'ASC' }, take: limit }));
  }
}

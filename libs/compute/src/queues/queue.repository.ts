import { Injectable } from '@nestjs/common';
import { Dialect } from '@trellis/platform';
import { DataSource, In, MoreThan, Not, type EntityManager } from 'typeorm';
import { FINAL_STATES, HOLDING_STATES, JobEntity, type JobStateName } from '../jobs/job.entity';
import { GrantEntity, QueueEntity } from './queue.entity';

/** Reads and writes queues and grants; the only part of the feature that knows the database. */
@Injectable()
export class QueueRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` in one transaction; pass its manager to the writes and to `Outbox.publish`. */
  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** The queue of this name, read in a transaction of its own (on SQLite every caller shares one connection). */
  find(name: string, tx?: EntityManager): Promise<QueueEntity | null> {
    return tx ? tx.findOneBy(QueueEntity, { name }) : this.transaction((own) => own.findOneBy(QueueEntity, { name }));
  }

  /** The queue, locked until the transaction ends. */
  lock(tx: EntityManager, name: string): Promise<QueueEntity | null> {
    return tx.findOne(QueueEntity, { where: { name }, ...Dialect.of(tx).lockForUpdate() });
  }

  /** Every queue. */
  all(): Promise<QueueEntity[]> {
    return this.transaction((tx) => tx.find(QueueEntity, { order: { name: 'ASC' } }));
  }

  /** Up to `limit` of the org's queues in name order after `after`. */
  page(orgId: string, after: string | undefined, limit: number): Promise<QueueEntity[]> {
    return this.transaction((tx) => tx.find(QueueEntity, { where: after === undefined ? { orgId } : { orgId, name: MoreThan(after) }, order: { name: 'ASC' }, take: limit }));
  }

  async save(tx: EntityManager, queue: QueueEntity): Promise<void> {
    await tx.save(QueueEntity, queue);
  }

  /** Deletes the queue and its grants. */
  async delete(tx: EntityManager, name: string): Promise<void> {
    await tx.delete(GrantEntity, { queue: name });
    await tx.delete(QueueEntity, { name });
  }

  /**
   * How many jobs in `states` each queue holds, by state: one grouped read over the (queue, state)
   * index, whose cost grows with those jobs, not with finished ones. A queue with none of them is
   * one row with a null state.
   */
  async jobCounts(states: readonly JobStateName[]): Promise<Array<{ queue: string; state: JobStateName | null; jobs: number }>> {
    const rows = await this.transaction((tx) =>
      tx
        .createQueryBuilder(QueueEntity, 'q')
        .select('q.name', 'queue')
        .addSelect('j.state', 'state')
        .addSelect('COUNT(j.id)', 'jobs')
        .leftJoin(JobEntity, 'j', 'j.queue = q.name AND j.state IN (:...states)', { states })
        .groupBy('q.name')
        .addGroupBy('j.state')
        .getRawMany<{ queue: string; state: JobStateName | null; jobs: string | number }>(),
    );
    return rows.map((row) => ({ ...row, jobs: Number(row.jobs) }));
  }

  /** Whether jobs on the queue are not final yet. */
  async hasLiveJobs(tx: EntityManager, queue: string): Promise<boolean> {
    return (await tx.count(JobEntity, { where: { queue, state: Not(In([...FINAL_STATES])) }, take: 1 })) > 0;
  }

  /** Whether the project has a grant on the org's queue: one written-out query, as every submission asks. */
  async hasGrant(tx: EntityManager, orgId: string, queue: string, projectId: string): Promise<boolean> {
    const [first, second, third] = [1, 2, 3].map((index) => Dialect.of(tx).placeholder(index));
    const rows = (await tx.query(`SELECT 1 AS found FROM grants g JOIN queues q ON q.name = g.queue WHERE g.queue = ${first} AND g.project_id = ${second} AND q.org_id = ${third}`, [
      queue,
      projectId,
      orgId,
    ])) as unknown[];
    return rows.length > 0;
  }

  findGrant(queue: string, projectId: string, tx?: EntityManager): Promise<GrantEntity | null> {
    return tx ? tx.findOneBy(GrantEntity, { queue, projectId }) : this.transaction((own) => own.findOneBy(GrantEntity, { queue, projectId }));
  }

  /** Every grant. */
  allGrants(): Promise<GrantEntity[]> {
    return this.transaction((tx) => tx.find(GrantEntity));
  }

  /** Up to `limit` grants on the org's queues that match the filter, by queue then project, after the position `after` (`<queue>\0<project>`). */
  pageGrants(filter: { orgId: string; queue?: string; projectIds?: readonly string[] }, after: string | undefined, limit: number): Promise<GrantEntity[]> {
    return this.transaction((tx) => {
      const query = tx
        .createQueryBuilder(GrantEntity, 'g')
        .innerJoin(QueueEntity, 'q', 'q.name = g.queue')
        .where('q.org_id = :orgId', { orgId: filter.orgId })
        .orderBy('g.queue', 'ASC')
        .addOrderBy('g.project_id', 'ASC')
        .take(limit);
      if (filter.queue !== undefined) query.andWhere('g.queue = :queue', { queue: filter.queue });
      if (filter.projectIds !== undefined) query.andWhere(filter.projectIds.length ? 'g.project_id IN (:...projects)' : '1 = 0', { projects: filter.projectIds });
      if (after !== undefined) {
        const [queue, projectId] = after.split('\0');
        query.andWhere('(g.queue > :afterQueue OR (g.queue = :afterQueue AND g.project_id > :afterProject))', { afterQueue: queue, afterProject: projectId });
      }
      return query.getMany();
    });
  }

  async saveGrant(tx: EntityManager, grant: GrantEntity): Promise<void> {
    await tx.save(GrantEntity, grant);
  }

  async deleteGrant(tx: EntityManager, queue: string, projectId: string): Promise<void> {
    await tx.delete(GrantEntity, { queue, projectId });
  }

  /** The jobs of the grants that hold quota now: what one replica was admitted with, and how many replicas. */
  holdingJobs(grants: ReadonlyArray<{ queue: string; projectId: string }>): Promise<Array<Pick<JobEntity, 'queue' | 'projectId' | 'replicas' | 'admittedRequest'>>> {
    if (grants.length === 0) return Promise.resolve([]);
    return this.transaction((tx) =>
      tx.find(JobEntity, {
        select: { queue: true, projectId: true, replicas: true, admittedRequest: true },
        where: grants.map(({ queue, projectId }) => ({ queue, projectId, state: In([...HOLDING_STATES]) })),
      }),
    );
  }
}

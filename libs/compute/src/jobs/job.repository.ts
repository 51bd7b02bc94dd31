import { Injectable } from '@nestjs/common';
import { Dialect } from '@trellis/platform';
import type { Resources } from '../admission';
import { DataSource, In, IsNull, Not, type EntityManager, type FindOptionsWhere } from 'typeorm';
import { AttemptEntity, HOLDING_STATES, JobEntity, LIVE_ATTEMPT_STATES, type JobStateName } from './job.entity';

/** The columns `insertAll` writes, in its values' order. */
const INSERTED_COLUMNS =
  'id, project_id, queue, request_id, spec, priority, replicas, request, any_gpus, state, reason, run_id, creator_id, created_at, updated_at, not_before, admitted_at, admitted_request, borrowing';
const INSERTED_COLUMN_COUNT = INSERTED_COLUMNS.split(',').length;

/** The key of a submission's request id: unique per project. */
export const requestKey = (projectId: string, requestId: string): string => `${projectId}\0${requestId}`;

/** A queued job's row as `queued` reads it. */
interface PendingRow {
  id: string;
  queue: string;
  project_id: string;
  priority: number | string;
  replicas: number | string;
  request: string;
  any_gpus: number | string;
  created_at: number | string;
  not_before: number | string;
  reason: string;
}

/** A listing's position: the last job's creation time and id. */
export interface JobPosition {
  createdAt: number;
  id: string;
}

/** Reads and writes jobs and attempts; the only part of the feature that knows the database. */
@Injectable()
export class JobRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * How many write transactions of submissions are worth having open at once: 4 on PostgreSQL, each
   * on a connection of the pool, so that while one waits for its round trips and its commit the
   * calls that arrive meanwhile go into the next; 1 on SQLite, which writes one transaction at a time
   * on its one connection (which also makes its batches the largest).
   */
  get writeTransactionsAtOnce(): number {
    return this.dataSource.options.type === 'postgres' ? 4 : 1;
  }

  /** Runs `work` in one transaction; pass its manager to the writes and to `Outbox.publish`. */
  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** The job, read in a transaction of its own (on SQLite every caller shares one connection). */
  find(id: string): Promise<JobEntity | null> {
    return this.transaction((tx) => tx.findOneBy(JobEntity, { id }));
  }

  /** The job, locked until the transaction ends. */
  lock(tx: EntityManager, id: string): Promise<JobEntity | null> {
    return tx.findOne(JobEntity, { where: { id }, ...Dialect.of(tx).lockForUpdate() });
  }

  /** The jobs earlier submissions made with these request ids, keyed by {@link requestKey}. */
  async findByRequests(tx: EntityManager, requests: ReadonlyArray<{ projectId: string; requestId: string }>): Promise<Map<string, JobEntity>> {
    if (requests.length === 0) return new Map();
    // Written out: this runs on every batch of submissions, and almost always finds nothing.
    const dialect = Dialect.of(tx);
    const pairs = requests.map((_, index) => `(${dialect.placeholder(2 * index + 1)}, ${dialect.placeholder(2 * index + 2)})`).join(', ');
    const rows = (await tx.query(`SELECT id FROM jobs WHERE (project_id, request_id) IN (VALUES ${pairs})`, requests.flatMap((r) => [r.projectId, r.requestId]))) as Array<{ id: string }>;
    const jobs = rows.length === 0 ? [] : await tx.findBy(JobEntity, { id: In(rows.map((row) => row.id)) });
    return new Map(jobs.map((job) => [requestKey(job.projectId, job.requestId ?? ''), job]));
  }

  /** Stores new jobs, in one statement written out (submissions are the service's hot path). */
  async insertAll(tx: EntityManager, jobs: readonly JobEntity[]): Promise<void> {
    if (jobs.length === 0) return;
    const dialect = Dialect.of(tx);
    const values = jobs.flatMap((job) => [
      job.id, job.projectId, job.queue, job.requestId, JSON.stringify(job.spec), job.priority, job.replicas, JSON.stringify(job.request), job.anyGpus,
      job.state, job.reason, job.runId, job.creatorId, job.createdAt, job.updatedAt, job.notBefore, job.admittedAt,
      job.admittedRequest === null ? null : JSON.stringify(job.admittedRequest),
      dialect.isPostgres ? job.borrowing : Number(job.borrowing),
    ]);
    const rows = jobs.map((_, row) => `(${Array.from({ length: INSERTED_COLUMN_COUNT }, (_, column) => dialect.placeholder(row * INSERTED_COLUMN_COUNT + column + 1)).join(', ')})`);
    await tx.query(`INSERT INTO jobs (${INSERTED_COLUMNS}) VALUES ${rows.join(', ')}`, values);
  }

  async update(tx: EntityManager, id: string, changes: Partial<Omit<JobEntity, 'id'>>): Promise<void> {
    await tx.update(JobEntity, { id }, changes);
  }

  /** Up to `limit` of the project's jobs, newest first, after `after`. */
  page(filter: { projectId: string; queue?: string; state?: JobStateName }, after: JobPosition | undefined, limit: number): Promise<JobEntity[]> {
    return this.transaction((tx) => {
      const query = tx
        .createQueryBuilder(JobEntity, 'j')
        .where('j.project_id = :projectId', { projectId: filter.projectId })
        .orderBy('j.created_at', 'DESC')
        .addOrderBy('j.id', 'DESC')
        .take(limit);
      if (filter.queue) query.andWhere('j.queue = :queue', { queue: filter.queue });
      if (filter.state) query.andWhere('j.state = :state', { state: filter.state });
      if (after) query.andWhere('(j.created_at < :createdAt OR (j.created_at = :createdAt AND j.id < :id))', after);
      return query.getMany();
    });
  }

  /** The job's attempts, first to last. */
  attempts(jobId: string, tx?: EntityManager): Promise<AttemptEntity[]> {
    const read = (manager: EntityManager) => manager.find(AttemptEntity, { where: { jobId }, order: { number: 'ASC' } });
    return tx ? read(tx) : this.transaction(read);
  }

  /** The job's latest attempt, if any. */
  async latestAttempt(tx: EntityManager, jobId: string): Promise<AttemptEntity | null> {
    return tx.findOne(AttemptEntity, { where: { jobId }, order: { number: 'DESC' } });
  }

  async insertAttempt(tx: EntityManager, attempt: AttemptEntity): Promise<void> {
    await tx.insert(AttemptEntity, attempt);
  }

  async updateAttempt(tx: EntityManager, attempt: Pick<AttemptEntity, 'jobId' | 'number'>, changes: Partial<AttemptEntity>): Promise<void> {
    await tx.update(AttemptEntity, { jobId: attempt.jobId, number: attempt.number }, changes);
  }

  /** Sets why queued jobs wait (those still queued): one statement per 500 jobs, as most jobs of one grant share a reason. */
  async setWaitingReason(tx: EntityManager, ids: readonly string[], reason: string): Promise<void> {
    for (let start = 0; start < ids.length; start += 500) {
      await tx.update(JobEntity, { id: In(ids.slice(start, start + 500)), state: 'QUEUED' }, { reason });
    }
  }

  /** Every queued job, backoff or not: the fields admission reads. */
  queued(): Promise<JobEntity[]> {
    return this.readQueued();
  }

  /** Those of the jobs that are queued: what the admission loop reads again when it is told they changed. */
  async queuedAmong(ids: readonly string[]): Promise<JobEntity[]> {
    const jobs: JobEntity[] = [];
    for (let start = 0; start < ids.length; start += 500) {
      jobs.push(...(await this.readQueued(ids.slice(start, start + 500))));
    }
    return jobs;
  }

  /** Queued jobs, all or those among `ids`. */
  private readQueued(ids: readonly string[] = []): Promise<JobEntity[]> {
    // Written out: the admission loop reads many queued jobs, and TypeORM's hydration cost more than the read.
    return this.transaction(async (tx) => {
      const dialect = Dialect.of(tx);
      const among = ids.length === 0 ? '' : ` AND id IN (${ids.map((_, index) => dialect.placeholder(index + 1)).join(', ')})`;
      const rows = (await tx.query(
        `SELECT id, queue, project_id, priority, replicas, request, any_gpus, created_at, not_before, reason FROM jobs WHERE state = 'QUEUED'${among}`,
        [...ids],
      )) as PendingRow[];
      return rows.map(
        (row) =>
          ({
            id: row.id,
            queue: row.queue,
            projectId: row.project_id,
            priority: Number(row.priority),
            replicas: Number(row.replicas),
            request: JSON.parse(row.request) as Resources,
            anyGpus: Number(row.any_gpus),
            createdAt: Number(row.created_at),
            notBefore: Number(row.not_before),
            reason: row.reason,
          }) as JobEntity,
      );
    });
  }

  /** The jobs, with their specs: what placement asks the backends about (`whyCannotRun`). */
  async withSpecs(ids: readonly string[]): Promise<Map<string, JobEntity>> {
    const jobs: JobEntity[] = [];
    for (let start = 0; start < ids.length; start += 500) {
      jobs.push(...(await this.transaction((tx) => tx.findBy(JobEntity, { id: In(ids.slice(start, start + 500)) }))));
    }
    return new Map(jobs.map((job) => [job.id, job]));
  }

  /** Jobs that hold quota now. */
  holding(): Promise<JobEntity[]> {
    return this.transaction((tx) =>
      tx.find(JobEntity, {
        select: { id: true, queue: true, projectId: true, priority: true, replicas: true, admittedRequest: true, admittedAt: true },
        where: { state: In([...HOLDING_STATES]) },
      }),
    );
  }

  /** Jobs admitted that have no live attempt yet, oldest admission first. */
  async admittedWithoutAttempt(): Promise<JobEntity[]> {
    return this.transaction((tx) => tx.find(JobEntity, { where: { state: 'ADMITTED' }, order: { admittedAt: 'ASC' } }));
  }

  /** Attempts that may still run on a backend, in the given states. */
  liveAttempts(states: readonly string[] = LIVE_ATTEMPT_STATES): Promise<AttemptEntity[]> {
    return this.transaction((tx) => tx.find(AttemptEntity, { where: { state: In([...states]) } }));
  }

  /** Live attempts someone asked to stop. */
  stoppingAttempts(): Promise<AttemptEntity[]> {
    return this.transaction((tx) => tx.find(AttemptEntity, { where: { state: In([...LIVE_ATTEMPT_STATES]), stop: Not(IsNull()) } }));
  }

  /** The attempt, locked until the transaction ends. */
  lockAttempt(tx: EntityManager, jobId: string, number: number): Promise<AttemptEntity | null> {
    return tx.findOne(AttemptEntity, { where: { jobId, number } satisfies FindOptionsWhere<AttemptEntity>, ...Dialect.of(tx).lockForUpdate() });
  }

  /** The projects with jobs on `queues`: whose backend jobs reconciliation lists. */
  async projectsOn(queues: readonly string[]): Promise<string[]> {
    if (queues.length === 0) return [];
    const rows = await this.transaction((tx) =>
      tx.createQueryBuilder(JobEntity, 'j').select('DISTINCT j.project_id', 'projectId').where('j.queue IN (:...queues)', { queues }).getRawMany<{ projectId: string }>(),
    );
    return rows.map((row) => row.projectId);
  }
}

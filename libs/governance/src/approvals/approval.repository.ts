import { Injectable } from '@nestjs/common';
import { DataSource, LessThan, type EntityManager, type FindOptionsWhere } from 'typeorm';
import { ApprovalEntity, type ApprovalStateName } from './approval.entity';

/** What a decision writes. */
export interface ApprovalDecision {
  state: Exclude<ApprovalStateName, 'pending'>;
  deciderId: string;
  comment: string;
  decidedAt: Date;
}

/** One page of a project's approvals, newest first. */
export interface ApprovalPageQuery {
  projectId: string;
  state: ApprovalStateName | null;
  /** Only rows inserted before this one; undefined for the first page. */
  beforeSeq?: number;
  limit: number;
}

/** Reads and writes approvals; the only part of the feature that knows the database. */
@Injectable()
export class ApprovalRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` in one transaction; pass its manager to the writes and to `Outbox.publish`. */
  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** Inserts a new request and returns it as stored. */
  async insert(tx: EntityManager, approval: Omit<ApprovalEntity, 'seq'>): Promise<ApprovalEntity> {
    await tx.insert(ApprovalEntity, approval);
    return tx.findOneByOrFail(ApprovalEntity, { id: approval.id });
  }

  /** The request with this id, read in `tx` or, without one, in a transaction of its own. */
  findById(id: string, tx?: EntityManager): Promise<ApprovalEntity | null> {
    if (tx) return tx.findOneBy(ApprovalEntity, { id });
    // On SQLite every caller shares one connection: a read outside a transaction could see another
    // caller's uncommitted decision, which a protected action must never act on.
    return this.dataSource.transaction((own) => own.findOneBy(ApprovalEntity, { id }));
  }

  /**
   * Decides the request if, and only if, it is still pending when the update runs
   * (`UPDATE ... WHERE id = ? AND state = 'pending'`), so of two concurrent decisions one wins.
   * Returns whether this one did.
   */
  async decide(tx: EntityManager, id: string, decision: ApprovalDecision): Promise<boolean> {
    const result = await tx.update(ApprovalEntity, { id, state: 'pending' }, decision);
    return result.affected === 1;
  }

  page(query: ApprovalPageQuery): Promise<ApprovalEntity[]> {
    const where: FindOptionsWhere<ApprovalEntity> = { projectId: query.projectId };
    if (query.state) where.state = query.state;
    if (query.beforeSeq !== undefined) where.seq = LessThan(query.beforeSeq);
    return this.dataSource.transaction((tx) => tx.find(ApprovalEntity, { where, order: { seq: 'DESC' }, take: query.limit }));
  }
}

import { Injectable } from '@nestjs/common';
import { Dialect } from '@trellis/platform';
import { DataSource, In, type EntityManager } from 'typeorm';
import { CanaryReportEntity, LIVE_STAGES, RolloutEntity, RolloutPolicyEntity, type RolloutStageName } from './rollout.entity';

/** Most rollouts ListRollouts returns. */
export const ROLLOUTS_LISTED = 100;

/** Reads and writes rollout policies and rollouts; the only part of the feature that knows the database. */
@Injectable()
export class RolloutRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  policy(endpointId: string, tx?: EntityManager): Promise<RolloutPolicyEntity | null> {
    const read = (manager: EntityManager) => manager.findOneBy(RolloutPolicyEntity, { endpointId });
    return tx ? read(tx) : this.transaction(read);
  }

  /** The policies of the project's endpoints that follow this alias of this model. */
  following(tx: EntityManager, projectId: string, modelName: string, alias: string): Promise<RolloutPolicyEntity[]> {
    return tx.find(RolloutPolicyEntity, { where: { projectId, modelName, alias }, order: { endpointId: 'ASC' } });
  }

  async savePolicy(tx: EntityManager, policy: RolloutPolicyEntity): Promise<void> {
    await tx.save(RolloutPolicyEntity, policy);
  }

  async deletePolicy(tx: EntityManager, endpointId: string): Promise<void> {
    await tx.delete(RolloutPolicyEntity, { endpointId });
  }

  byTrigger(tx: EntityManager, endpointId: string, triggerKey: string): Promise<RolloutEntity | null> {
    return tx.findOneBy(RolloutEntity, { endpointId, triggerKey });
  }

  /** The endpoint's rollouts in progress (PENDING or CANARY), oldest first. */
  live(tx: EntityManager, endpointId: string): Promise<RolloutEntity[]> {
    return tx.find(RolloutEntity, { where: { endpointId, stage: In([...LIVE_STAGES]) }, order: { createdAt: 'ASC' } });
  }

  /** Every rollout in progress, oldest first: what the worker goes through. */
  allLive(): Promise<RolloutEntity[]> {
    return this.transaction((tx) => tx.find(RolloutEntity, { where: { stage: In([...LIVE_STAGES]) }, order: { createdAt: 'ASC', id: 'ASC' } }));
  }

  /** The endpoint's latest rollouts, newest first. */
  recent(endpointId: string, limit = ROLLOUTS_LISTED): Promise<RolloutEntity[]> {
    return this.transaction((tx) => tx.find(RolloutEntity, { where: { endpointId }, order: { createdAt: 'DESC', id: 'DESC' }, take: limit }));
  }

  /** The rollout, its row locked until `tx` ends where the database can. */
  lock(tx: EntityManager, id: string): Promise<RolloutEntity | null> {
    return tx.findOne(RolloutEntity, { where: { id }, ...Dialect.of(tx).lockForUpdate<RolloutEntity>() });
  }

  async insert(tx: EntityManager, rollout: RolloutEntity): Promise<void> {
    await tx.insert(RolloutEntity, rollout);
  }

  /** Writes `changes` if the rollout is still at `stage`; says whether it was (a decision made meanwhile elsewhere leaves it as it is). */
  async updateAt(tx: EntityManager, id: string, stage: RolloutStageName, changes: Partial<Omit<RolloutEntity, 'id'>>): Promise<boolean> {
    const result = await tx.update(RolloutEntity, { id, stage }, changes);
    return (result.affected ?? 0) > 0;
  }

  /** The canaries baking on the project's endpoint of that name (none, or one unless it was deleted and made again). */
  canariesOf(tx: EntityManager, projectId: string, endpointName: string): Promise<RolloutEntity[]> {
    return tx.find(RolloutEntity, { where: { projectId, endpointName, stage: 'CANARY' }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** Records why the canary is to be rolled back, if it is still baking and had no finding; says whether it did. */
  async condemn(tx: EntityManager, id: string, finding: string): Promise<boolean> {
    const result = await tx.update(RolloutEntity, { id, stage: 'CANARY', driftFinding: '' }, { driftFinding: finding });
    return (result.affected ?? 0) > 0;
  }

  /** The rollouts whose canaries are baking. */
  canaries(): Promise<RolloutEntity[]> {
    return this.transaction((tx) => tx.find(RolloutEntity, { where: { stage: 'CANARY' } }));
  }

  /** Replaces this replica's report of the rollout's canary. */
  async saveReport(report: CanaryReportEntity): Promise<void> {
    await this.transaction((tx) => tx.upsert(CanaryReportEntity, report, ['rolloutId', 'replicaId']));
  }

  /** Every replica's latest report of the rollout's canary. */
  reports(rolloutId: string): Promise<CanaryReportEntity[]> {
    return this.transaction((tx) => tx.find(CanaryReportEntity, { where: { rolloutId } }));
  }
}

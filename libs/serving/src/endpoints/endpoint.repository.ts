import { Injectable } from '@nestjs/common';
import { Dialect } from '@trellis/platform';
import { DataSource, In, MoreThan, type EntityManager } from 'typeorm';
import { PredictionLoggingEntity } from '../predictions/prediction.entity';
import { RolloutEntity, RolloutPolicyEntity } from '../rollouts/rollout.entity';
import { EndpointEntity, RevisionEntity } from './endpoint.entity';

/** Reads and writes endpoints and their revisions; the only part of the feature that knows the database. */
@Injectable()
export class EndpointRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` in one transaction; pass its manager to the writes and to `Outbox.publish`. */
  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** The endpoint with this id, read in a transaction of its own. */
  findById(id: string): Promise<EndpointEntity | null> {
    // On SQLite every caller shares one connection: outside a transaction a read could see another call's uncommitted write.
    return this.transaction((tx) => tx.findOneBy(EndpointEntity, { id }));
  }

  /** The project's endpoint of that name (the name inference requests use), read in a transaction of its own. */
  findByName(projectId: string, name: string): Promise<EndpointEntity | null> {
    return this.transaction((tx) => tx.findOneBy(EndpointEntity, { projectId, name }));
  }

  /** Every project's endpoint of that name (inference names an endpoint without its project). */
  findAllByName(name: string): Promise<EndpointEntity[]> {
    return this.transaction((tx) => tx.find(EndpointEntity, { where: { name }, order: { projectId: 'ASC' } }));
  }

  /** The endpoint's revision with this id, or with this number when `key` is all digits. */
  findRevision(endpointId: string, key: string): Promise<RevisionEntity | null> {
    const where = /^[0-9]{1,9}$/.test(key) ? { endpointId, number: Number(key) } : { endpointId, id: key };
    return this.transaction((tx) => tx.findOneBy(RevisionEntity, where));
  }

  /** Moves a PENDING revision to READY or FAILED in `tx`; says whether it was PENDING (another replica may have moved it first). */
  async settleRevision(tx: EntityManager, id: string, state: 'READY' | 'FAILED', message: string): Promise<boolean> {
    const result = await tx.update(RevisionEntity, { id, state: 'PENDING' }, { state, stateMessage: message });
    return (result.affected ?? 0) > 0;
  }

  /** Every endpoint, for a replica to reconcile the revisions it holds with those their splits name. */
  allEndpoints(): Promise<EndpointEntity[]> {
    return this.transaction((tx) => tx.find(EndpointEntity, { order: { id: 'ASC' } }));
  }

  /** The endpoint with this id, its row locked until `tx` ends (PostgreSQL; SQLite runs one write transaction at a time). */
  lockById(tx: EntityManager, id: string): Promise<EndpointEntity | null> {
    return tx.findOne(EndpointEntity, { where: { id }, ...Dialect.of(tx).lockForUpdate<EndpointEntity>() });
  }

  nameTaken(tx: EntityManager, projectId: string, name: string): Promise<boolean> {
    return tx.existsBy(EndpointEntity, { projectId, name });
  }

  countIn(tx: EntityManager, projectId: string): Promise<number> {
    return tx.countBy(EndpointEntity, { projectId });
  }

  async insert(tx: EntityManager, endpoint: EndpointEntity): Promise<void> {
    await tx.insert(EndpointEntity, endpoint);
  }

  async update(tx: EntityManager, id: string, changes: Partial<Omit<EndpointEntity, 'id'>>): Promise<void> {
    await tx.update(EndpointEntity, { id }, changes);
  }

  /** Removes the endpoint and its revisions. */
  async delete(tx: EntityManager, id: string): Promise<void> {
    await tx.delete(RevisionEntity, { endpointId: id });
    await tx.delete(EndpointEntity, { id });
  }

  async insertRevision(tx: EntityManager, revision: RevisionEntity): Promise<void> {
    await tx.insert(RevisionEntity, revision);
  }

  /** A new endpoint's own logging share, written with the endpoint (PredictionService sets it later). */
  async insertLoggingShare(tx: EntityManager, share: PredictionLoggingEntity): Promise<void> {
    await tx.insert(PredictionLoggingEntity, share);
  }

  /** The revisions with these ids, newest first; read in `tx` when given, else in a transaction of their own. */
  revisions(ids: readonly string[], tx?: EntityManager): Promise<RevisionEntity[]> {
    if (ids.length === 0) return Promise.resolve([]);
    const read = (manager: EntityManager) => manager.find(RevisionEntity, { where: { id: In([...new Set(ids)]) }, order: { createdAt: 'DESC', number: 'DESC' } });
    return tx ? read(tx) : this.transaction(read);
  }

  /** Up to `limit` of the project's endpoints in name order, after the name `after` (from the first without one). */
  page(projectId: string, after: string | undefined, limit: number): Promise<EndpointEntity[]> {
    const where = after === undefined ? { projectId } : { projectId, name: MoreThan(after) };
    return this.transaction((tx) => tx.find(EndpointEntity, { where, order: { name: 'ASC' }, take: limit }));
  }

  /** The rollout policies of these endpoints and the latest rollout of each: two queries, however many endpoints. */
  rollouts(endpointIds: readonly string[]): Promise<{ policies: RolloutPolicyEntity[]; latest: RolloutEntity[] }> {
    if (endpointIds.length === 0) return Promise.resolve({ policies: [], latest: [] });
    const ids = [...new Set(endpointIds)];
    return this.transaction(async (tx) => ({
      policies: await tx.find(RolloutPolicyEntity, { where: { endpointId: In(ids) } }),
      latest: await tx
        .createQueryBuilder(RolloutEntity, 'rollout')
        .where('rollout.endpoint_id IN (:...ids)', { ids })
        .andWhere(
          'NOT EXISTS (SELECT 1 FROM rollouts newer WHERE newer.endpoint_id = rollout.endpoint_id' +
            ' AND (newer.created_at > rollout.created_at OR (newer.created_at = rollout.created_at AND newer.id > rollout.id)))',
        )
        .getMany(),
    }));
  }
}

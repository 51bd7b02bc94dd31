import type { DataSource, EntitySubscriberInterface, QueryRunner } from 'typeorm';
import { EndpointEntity, RevisionEntity } from '../endpoints/endpoint.entity';
import type { EndpointRepository } from '../endpoints/endpoint.repository';
import { revisionsOf } from '../endpoints/traffic';

/** Every project's endpoint of one name, with the revisions their splits name, by id. */
export interface NamedEndpoints {
  readonly endpoints: readonly EndpointEntity[];
  readonly revisions: ReadonlyMap<string, RevisionEntity>;
}

/**
 * Endpoints and their splits' revisions held in memory by name, so that inference reads the
 * database once per name rather than twice per request. A write to an endpoint or a revision on
 * this replica, wherever it is made, forgets them all when its transaction commits (before the call
 * that made it answers), so the next request reads them again; `forget` is also called by every
 * reconcile pass, the bound on how long a change made through another replica goes unseen here.
 */
export class EndpointDirectory {
  private readonly byName = new Map<string, Promise<NamedEndpoints>>();
  /** Transactions that wrote an endpoint or a revision and have not ended yet. */
  private readonly writing = new WeakSet<QueryRunner>();

  constructor(
    private readonly repository: EndpointRepository,
    dataSource: DataSource,
  ) {
    dataSource.subscribers.push(this.subscriber());
  }

  /** The endpoints of that name and their splits' revisions, read once until a change forgets them. */
  named(name: string): Promise<NamedEndpoints> {
    let entry = this.byName.get(name);
    if (!entry) {
      entry = this.read(name);
      this.byName.set(name, entry);
      const kept = entry;
      entry.catch(() => this.byName.get(name) === kept && this.byName.delete(name));
    }
    return entry;
  }

  forget(): void {
    this.byName.clear();
  }

  private async read(name: string): Promise<NamedEndpoints> {
    const endpoints = await this.repository.findAllByName(name);
    const revisions = await this.repository.revisions(endpoints.flatMap((endpoint) => revisionsOf(endpoint.traffic)));
    return { endpoints, revisions: new Map(revisions.map((revision) => [revision.id, revision])) };
  }

  private subscriber(): EntitySubscriberInterface {
    const wrote = ({ metadata, queryRunner }: { metadata: { target: unknown }; queryRunner: QueryRunner }) => {
      if (metadata.target !== EndpointEntity && metadata.target !== RevisionEntity) return;
      // Forgotten now as well: a read already under way must not be kept once the write commits.
      this.forget();
      if (queryRunner.isTransactionActive) this.writing.add(queryRunner);
    };
    const ended = ({ queryRunner }: { queryRunner: QueryRunner }) => {
      // A nested transaction (savepoint) ending is not a commit: wait until the outermost one ends.
      if (!queryRunner.isTransactionActive && this.writing.delete(queryRunner)) this.forget();
    };
    return { afterInsert: wrote, afterUpdate: wrote, afterRemove: wrote, afterTransactionCommit: ended, afterTransactionRollback: ended };
  }
}

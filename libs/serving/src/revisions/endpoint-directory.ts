import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { EVENT_BUS, watchEvent, type EventBus, type EventSubscription } from '@trellis/platform';
import { DataSource, type EntitySubscriberInterface, type QueryRunner } from 'typeorm';
import { EndpointEntity, RevisionEntity } from '../endpoints/endpoint.entity';
import { EndpointRepository } from '../endpoints/endpoint.repository';
import { revisionsOf } from '../endpoints/traffic';
import { servingEvents } from '../serving.events';

/** Every project's endpoint of one name, with the revisions their splits name, by id. */
export interface NamedEndpoints {
  readonly endpoints: readonly EndpointEntity[];
  readonly revisions: ReadonlyMap<string, RevisionEntity>;
}

/** The events that change what a name resolves to: an endpoint of that name created or deleted, or its split changed. */
const ENDPOINT_CHANGES = ['trellis.serving.v1.endpoint.created', 'trellis.serving.v1.endpoint.deleted', 'trellis.serving.v1.endpoint.traffic_changed'] as const;

/** The event that a revision of an endpoint settled to READY or FAILED, through whichever replica loaded it. */
const REVISION_SETTLED = 'trellis.serving.v1.revision.state_changed';

/**
 * Endpoints and their splits' revisions held in memory by name, so that inference reads the
 * database once per name rather than twice per request. A write to an endpoint or a revision on
 * this replica, wherever it is made, forgets them all when its transaction commits (before the call
 * that made it answers), so the next request reads them again. Every replica also
 * watches the endpoint events and trellis.serving.v1.revision.state_changed (each replica gets each
 * one) and forgets the endpoint's name as soon as a change made through another replica, or a
 * revision another replica moved to READY or FAILED, is published. `forget` is also called by every
 * reconcile pass: the bound should an event be late.
 */
@Injectable()
export class EndpointDirectory implements OnModuleInit, OnModuleDestroy {
  private readonly byName = new Map<string, Promise<NamedEndpoints>>();
  /** Transactions that wrote an endpoint or a revision and have not ended yet. */
  private readonly writing = new WeakSet<QueryRunner>();
  private watches: EventSubscription[] = [];

  constructor(
    private readonly repository: EndpointRepository,
    dataSource: DataSource,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
  ) {
    dataSource.subscribers.push(this.subscriber());
  }

  async onModuleInit(): Promise<void> {
    // From now on: what was published before is in the database, which this replica has not read yet.
    const since = new Date();
    for (const subject of ENDPOINT_CHANGES) {
      this.watches.push(await watchEvent(this.bus, servingEvents, { subject, since, handler: ({ endpoint }) => this.forget(endpoint?.name) }));
    }
    this.watches.push(await watchEvent(this.bus, servingEvents, { subject: REVISION_SETTLED, since, handler: ({ endpointName }) => this.forget(endpointName) }));
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all(this.watches.splice(0).map((watch) => watch.stop()));
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

  /** Forgets the endpoints of that name, or of every name. */
  forget(name?: string): void {
    if (name === undefined) this.byName.clear();
    else this.byName.delete(name);
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

import { toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager, EntityMetadata, EntitySubscriberInterface, QueryRunner } from 'typeorm';
import { OutboxEntity } from '../persistence/outbox.entity';
import type { CatalogEvent, EventCatalog, EventContext, EventSubject, EventTable } from './event-catalog';
import { outboxTablePath } from './outbox-store';
import { checkSubject } from './subject-match';

/** An event to publish without a catalog: a protobuf-es message, its schema, and where it goes. */
export interface OutboxEvent<Desc extends DescMessage = DescMessage> extends EventContext {
  /** `trellis.<service>.v1.<entity>.<verb>`, without wildcards. */
  subject: string;
  /** The generated schema of `message` (e.g. `RunFinishedEventSchema`). */
  schema: Desc;
  message: MessageShape<Desc>;
}

/** What the Outbox wakes after a commit that wrote events; an `OutboxRelay` fits. */
export interface OutboxWaker {
  notify(): void;
}

/**
 * The transactional outbox: `publish` writes an event into the caller's open transaction, so the
 * event exists if and only if the change it describes commits. An `OutboxRelay` delivers it later.
 */
export class Outbox {
  private readonly relay?: OutboxWaker;
  private readonly hooked = new WeakSet<DataSource>();
  private readonly wroteEvents = new WeakSet<QueryRunner>();

  /**
   * @param options.relay woken right after each commit that published events, so delivery does not
   *   wait for the relay's next poll. Optional: without it events still go out on the next poll.
   */
  constructor(options: { relay?: OutboxWaker } = {}) {
    this.relay = options.relay;
  }

  /**
   * Adds an event of `events` to the outbox inside the transaction of `manager` (the manager passed
   * to `dataSource.transaction(...)`'s callback) and returns the new event's id (a UUID v4). The
   * message must be the one `events` declares for the subject: anything else fails type-checking,
   * and is refused at run time for callers without types. Nothing is ever published if that
   * transaction rolls back. The envelope's `event_time` is the time of this call.
   *
   * @throws if `manager` has no open transaction, if the subject is not in `events`, or if
   *   `message` is not a message of the subject's schema.
   */
  publish<T extends EventTable, S extends EventSubject<T>>(manager: EntityManager, events: EventCatalog<T>, event: CatalogEvent<T, S>): Promise<string>;
  /**
   * Adds `event`, whose subject no catalog declares, to the outbox (for the kit's own per-service
   * subjects, such as audit events); otherwise as the typed overload.
   *
   * @throws if `manager` has no open transaction, if the subject is not `trellis.`-prefixed and
   *   wildcard-free, or if `message` is not a message of `schema`.
   */
  publish<Desc extends DescMessage>(manager: EntityManager, event: OutboxEvent<Desc>): Promise<string>;
  async publish<T extends EventTable, S extends EventSubject<T>>(
    manager: EntityManager,
    eventsOrEvent: EventCatalog<T> | OutboxEvent,
    typed?: CatalogEvent<T, S>,
  ): Promise<string> {
    if (typed) {
      const schema = (eventsOrEvent as EventCatalog<T>).checked(typed.subject, typed.message);
      return this.write(manager, { ...typed, schema });
    }
    return this.write(manager, eventsOrEvent as OutboxEvent);
  }

  /**
   * Adds `events`, in order, to the outbox inside the transaction of `manager` in one statement:
   * for a change that publishes many events (a batch of calls written together), as `publish` does
   * for each, with the same checks and promises. Returns the new events' ids, in order.
   *
   * @throws as `publish`, for the first event that fails a check; nothing is written then.
   */
  async publishAll(manager: EntityManager, events: readonly OutboxEvent[]): Promise<string[]> {
    const queryRunner = openTransactionOf(manager);
    const rows = events.map(rowOf);
    if (rows.length === 0) return [];
    await insertRows(queryRunner, rows);
    this.wakeRelayOnCommit(manager, queryRunner);
    return rows.map(({ id }) => id);
  }

  private async write(manager: EntityManager, event: OutboxEvent): Promise<string> {
    const queryRunner = openTransactionOf(manager);
    const row = rowOf(event);
    await insertRows(queryRunner, [row]);
    this.wakeRelayOnCommit(manager, queryRunner);
    return row.id;
  }

  private wakeRelayOnCommit(manager: EntityManager, queryRunner: QueryRunner): void {
    if (!this.relay) return;
    this.wakeRelayAfterCommit(manager.connection);
    this.wroteEvents.add(queryRunner);
  }

  private wakeRelayAfterCommit(dataSource: DataSource): void {
    if (this.hooked.has(dataSource)) return;
    this.hooked.add(dataSource);
    const subscriber: EntitySubscriberInterface = {
      // A nested transaction (savepoint) ending is not a commit: wait until the outermost one ends.
      afterTransactionCommit: ({ queryRunner }) => {
        if (!queryRunner.isTransactionActive && this.wroteEvents.delete(queryRunner)) this.relay?.notify();
      },
      afterTransactionRollback: ({ queryRunner }) => {
        if (!queryRunner.isTransactionActive) this.wroteEvents.delete(queryRunner);
      },
    };
    dataSource.subscribers.push(subscriber);
  }
}

function openTransactionOf(manager: EntityManager): QueryRunner {
  const queryRunner = manager.queryRunner;
  if (!queryRunner?.isTransactionActive) {
    throw new Error(
      'Outbox.publish needs the EntityManager of an open transaction (dataSource.transaction(async (manager) => ...)), ' +
        'so that the event commits or rolls back with the change',
    );
  }
  return queryRunner;
}

type OutboxRow = Omit<OutboxEntity, 'seq'>;

/** The columns an insert writes (all but `seq`), in order, with the statement's start, per DataSource. */
const insertShapes = new WeakMap<DataSource, { columns: EntityMetadata['columns']; head: string }>();

/** Rows per INSERT: 8 parameters a row stays far below PostgreSQL's 65,535 and SQLite's 32,766. */
const ROWS_PER_INSERT = 1000;

/**
 * Writes `rows` with plain parameterised multi-row INSERTs (one for up to {@link ROWS_PER_INSERT}
 * rows: each statement is a round trip to PostgreSQL). Values go through the driver's own
 * conversion of each column, so they are stored exactly as TypeORM's insert would store them; the
 * insert builder is skipped because building its statement cost more than running it.
 */
async function insertRows(queryRunner: QueryRunner, rows: readonly OutboxRow[]): Promise<void> {
  const { connection } = queryRunner;
  const { driver } = connection;
  let shape = insertShapes.get(connection);
  if (!shape) {
    const columns = connection.getMetadata(OutboxEntity).columns.filter((column) => !column.isGenerated);
    shape = { columns, head: `INSERT INTO ${outboxTablePath(connection)} (${columns.map((column) => driver.escape(column.databaseName)).join(', ')}) VALUES ` };
    insertShapes.set(connection, shape);
  }
  const { columns, head } = shape;
  for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
    const chunk = rows.slice(start, start + ROWS_PER_INSERT);
    const parameters: unknown[] = [];
    const tuples = chunk.map((row) => {
      const placeholders = columns.map((column) => {
        parameters.push(driver.preparePersistentValue(column.getEntityValue(row), column));
        return driver.createParameter(`p${parameters.length}`, parameters.length - 1);
      });
      return `(${placeholders.join(', ')})`;
    });
    await queryRunner.query(head + tuples.join(', '), parameters);
  }
}

/** The outbox row of `event`, once its subject and message are checked. */
function rowOf(event: OutboxEvent): OutboxRow {
  checkSubject(event.subject, { wildcards: false });
  if (!event.subject.startsWith('trellis.')) {
    throw new Error(`event subject "${event.subject}" must start with "trellis." (trellis.<service>.v1.<entity>.<verb>)`);
  }
  if (event.message.$typeName !== event.schema.typeName) {
    throw new Error(`event message is a ${event.message.$typeName}, but its schema is ${event.schema.typeName}`);
  }
  const payload = toBinary(event.schema, event.message);
  return {
    id: randomUUID(),
    subject: event.subject,
    payloadType: event.schema.typeName,
    payload: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
    occurredAt: new Date(),
    requestId: event.requestId ?? null,
    actor: event.actor ?? null,
    projectId: event.projectId ?? null,
  };
}

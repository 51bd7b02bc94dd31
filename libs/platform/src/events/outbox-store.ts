import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { EventEnvelopeSchema, type EventEnvelope } from '@trellis/proto';
import type { DataSource } from 'typeorm';
import { OUTBOX_TABLE } from '../persistence/kit-table-names';
import { OutboxEntity } from '../persistence/outbox.entity';
import { runOutsideTransactions, type SqliteHandle } from '../persistence/sqlite-transactions';

/** The outcome of one relay pass over the outbox. */
export interface RelayedBatch {
  /** Rows handed to the bus and removed from the outbox. */
  published: number;
  /** Rows read; fewer than the limit means the outbox was drained. */
  read: number;
  /** Set when the bus refused a row: that row and the ones after it stay for the next pass. */
  failure?: { eventId: string; error: unknown };
}

/** Reads outbox rows in order, hands each to `publish`, and deletes the ones the bus accepted. */
export interface OutboxStore {
  relayBatch(limit: number, publish: (envelope: EventEnvelope) => Promise<void>): Promise<RelayedBatch>;
}

/** The store for the engine under `dataSource`. */
export function outboxStoreFor(dataSource: DataSource): OutboxStore {
  return dataSource.options.type === 'postgres' ? new PostgresOutboxStore(dataSource) : new SqliteOutboxStore(dataSource);
}

/**
 * Locks the batch with `FOR UPDATE SKIP LOCKED` for as long as it is being published, so relays in
 * several processes never hand the same row to the bus at once. If a process dies mid-batch its
 * transaction aborts and the rows it had not deleted go out again (with the same event ids).
 *
 * Redelivery: the transaction commits with `synchronous_commit = off`, so its DELETE does not wait
 * for a WAL flush. A crash of the relay's process loses nothing the server acknowledged; a crash of
 * the server itself may undo the deletes of its last moments (at most three `wal_writer_delay`s,
 * and never past a later synchronous commit, such as any service write), so those events, already
 * delivered, go out again with their ids. Event inserts commit with the caller's change as before.
 */
class PostgresOutboxStore implements OutboxStore {
  private readonly table: string;

  constructor(private readonly dataSource: DataSource) {
    this.table = outboxTablePath(dataSource);
  }

  async relayBatch(limit: number, publish: (envelope: EventEnvelope) => Promise<void>): Promise<RelayedBatch> {
    const queryRunner = this.dataSource.createQueryRunner();
    await queryRunner.connect();
    let open = false;
    try {
      // One round trip for both (no parameters: one simple query may hold two statements).
      await queryRunner.query('START TRANSACTION; SET LOCAL synchronous_commit = off');
      open = true;
      const raw = (await queryRunner.query(`SELECT * FROM ${this.table} ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`, [limit])) as RawRow[];
      const rows = hydrated(this.dataSource, raw);
      const { done, failure } = await publishInOrder(rows, publish);
      if (done.length > 0) await queryRunner.query(`DELETE FROM ${this.table} WHERE seq = ANY($1::bigint[])`, [done]);
      await queryRunner.query('COMMIT');
      open = false;
      return { published: done.length, read: rows.length, failure };
    } catch (error) {
      if (open) await queryRunner.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      await queryRunner.release();
    }
  }
}

/**
 * Reads and deletes on the raw connection at moments when no transaction is open on it (SQLite
 * shares one connection per DataSource), so it never sees rows that may still roll back. One relay
 * per SQLite database.
 */
class SqliteOutboxStore implements OutboxStore {
  constructor(private readonly dataSource: DataSource) {}

  async relayBatch(limit: number, publish: (envelope: EventEnvelope) => Promise<void>): Promise<RelayedBatch> {
    const raw = await runOutsideTransactions(
      this.dataSource,
      (db) => prepared(db, `SELECT * FROM ${OUTBOX_TABLE} ORDER BY seq LIMIT ?`).all(limit) as RawRow[],
    );
    const rows = hydrated(this.dataSource, raw);
    const { done, failure } = await publishInOrder(rows, publish);
    if (done.length > 0) {
      // Exactly the rows in `done`: they are the first rows in seq order when read, and a row
      // committed since has a higher seq (AUTOINCREMENT never reuses one; one writer at a time).
      await runOutsideTransactions(this.dataSource, (db) =>
        withoutSyncAtCommit(db, () => prepared(db, `DELETE FROM ${OUTBOX_TABLE} WHERE seq BETWEEN ? AND ?`).run(Number(done[0]), Number(done.at(-1)))),
      );
    }
    return { published: done.length, read: rows.length, failure };
  }
}

/** `PRAGMA synchronous` levels (https://sqlite.org/pragma.html#pragma_synchronous). */
const SYNCHRONOUS_NORMAL = 1;

/**
 * Runs `work` (one autocommitted statement) with the connection's `synchronous` at most NORMAL, so
 * that its commit is not an fsync of its own in WAL mode, then puts the setting back.
 *
 * Safe for the relay's DELETE only: a process crash (SIGKILL) loses nothing that was committed,
 * since the WAL is written before the commit returns; a power loss may undo the deletes made since
 * the WAL was last synced (by the next commit at FULL, such as any service write, or a checkpoint),
 * and only ever those, so events that were in the outbox at that last sync go out again with their
 * ids, which the bus and `subscribeIdempotent` already take as duplicates. Never an event's insert:
 * that commits with the caller's change at the connection's own setting.
 */
function withoutSyncAtCommit<T>(db: SqliteHandle, work: () => T): T {
  const [{ synchronous }] = prepared(db, 'PRAGMA synchronous').all() as Array<{ synchronous: number }>;
  if (synchronous <= SYNCHRONOUS_NORMAL) return work();
  prepared(db, `PRAGMA synchronous = ${SYNCHRONOUS_NORMAL}`).run();
  try {
    return work();
  } finally {
    prepared(db, `PRAGMA synchronous = ${synchronous}`).run();
  }
}

type Statement = ReturnType<SqliteHandle['prepare']>;
const statements = new WeakMap<SqliteHandle, Map<string, Statement>>();

/** `sql` prepared once per connection: preparing the relay's few statements anew each pass showed in profiles. */
function prepared(db: SqliteHandle, sql: string): Statement {
  let cache = statements.get(db);
  if (!cache) statements.set(db, (cache = new Map()));
  let statement = cache.get(sql);
  if (!statement) cache.set(sql, (statement = db.prepare(sql)));
  return statement;
}

type RawRow = Record<string, unknown>;

/** The outbox table's name for raw SQL on `dataSource`, quoted, in its schema if it has one. */
export function outboxTablePath(dataSource: DataSource): string {
  const { driver } = dataSource;
  return dataSource
    .getMetadata(OutboxEntity)
    .tablePath.split('.')
    .map((part) => driver.escape(part))
    .join('.');
}

/** Outbox rows as the driver returned them, converted as TypeORM would for a find. */
function hydrated(dataSource: DataSource, raw: RawRow[]): OutboxEntity[] {
  const { columns } = dataSource.getMetadata(OutboxEntity);
  return raw.map((row) => {
    const entity = new OutboxEntity() as unknown as RawRow;
    for (const column of columns) entity[column.propertyName] = dataSource.driver.prepareHydratedValue(row[column.databaseName], column);
    return entity as unknown as OutboxEntity;
  });
}

async function publishInOrder(
  rows: OutboxEntity[],
  publish: (envelope: EventEnvelope) => Promise<void>,
): Promise<{ done: string[]; failure?: RelayedBatch['failure'] }> {
  const done: string[] = [];
  for (const row of rows) {
    try {
      await publish(toEnvelope(row));
    } catch (error) {
      return { done, failure: { eventId: row.id, error } };
    }
    done.push(row.seq);
  }
  return { done };
}

function toEnvelope(row: OutboxEntity): EventEnvelope {
  return create(EventEnvelopeSchema, {
    id: row.id,
    subject: row.subject,
    payloadType: row.payloadType,
    payload: new Uint8Array(row.payload),
    eventTime: timestampFromDate(row.occurredAt),
    requestId: row.requestId ?? '',
    actor: row.actor ?? '',
    projectId: row.projectId ?? '',
  });
}

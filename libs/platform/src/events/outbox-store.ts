import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { EventEnvelopeSchema, type EventEnvelope } from '@trellis/proto';
import { In, type DataSource } from 'typeorm';
import { OUTBOX_TABLE } from '../persistence/kit-table-names';
import { OutboxEntity } from '../persistence/outbox.entity';
import { runOutsideTransactions } from '../persistence/sqlite-transactions';

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
 */
class PostgresOutboxStore implements OutboxStore {
  constructor(private readonly dataSource: DataSource) {}

  async relayBatch(limit: number, publish: (envelope: EventEnvelope) => Promise<void>): Promise<RelayedBatch> {
    const queryRunner = this.dataSource.createQueryRunner();
    await queryRunner.connect();
    try {
      await queryRunner.startTransaction();
      const rows = await queryRunner.manager
        .getRepository(OutboxEntity)
        .createQueryBuilder('outbox')
        .orderBy('outbox.seq', 'ASC')
        .limit(limit)
        .setLock('pessimistic_write')
        .setOnLocked('skip_locked')
        .getMany();
      const { done, failure } = await publishInOrder(rows, publish);
      if (done.length > 0) await queryRunner.manager.delete(OutboxEntity, { seq: In(done) });
      await queryRunner.commitTransaction();
      return { published: done.length, read: rows.length, failure };
    } catch (error) {
      if (queryRunner.isTransactionActive) await queryRunner.rollbackTransaction().catch(() => undefined);
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
    const metadata = this.dataSource.getMetadata(OutboxEntity);
    const raw = await runOutsideTransactions(
      this.dataSource,
      (db) => db.prepare(`SELECT * FROM ${OUTBOX_TABLE} ORDER BY seq LIMIT ?`).all(limit) as Record<string, unknown>[],
    );
    const rows = raw.map((row) => {
      const entity = new OutboxEntity() as unknown as Record<string, unknown>;
      for (const column of metadata.columns) {
        entity[column.propertyName] = this.dataSource.driver.prepareHydratedValue(row[column.databaseName], column);
      }
      return entity as unknown as OutboxEntity;
    });
    const { done, failure } = await publishInOrder(rows, publish);
    if (done.length > 0) {
      await runOutsideTransactions(this.dataSource, (db) =>
        db.prepare(`DELETE FROM ${OUTBOX_TABLE} WHERE seq IN (${done.map(() => '?').join(', ')})`).run(...done.map(Number)),
      );
    }
    return { published: done.length, read: rows.length, failure };
  }
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

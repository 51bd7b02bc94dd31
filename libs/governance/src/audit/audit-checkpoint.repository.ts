import { Dialect, tableOf } from '@trellis/platform';
import type { DataSource, EntityManager } from 'typeorm';
import { AuditCheckpointEntity } from './audit.entity';
import { readChainHead, type ChainHead } from './audit-record.repository';
import { readAhead } from './read-ahead';

/** A checkpoint as stored: which head it signed, when, and the MAC over that. */
export interface StoredCheckpoint {
  number: bigint;
  /** The last record it covers. */
  sequence: bigint;
  headHash: string;
  createdAtUs: bigint;
  keyId: string;
  mac: Buffer;
}

const COLUMNS = 'number, sequence, head_hash, created_at_us, key_id, mac';

/** The checkpoint with the highest number, if any. */
export async function lastCheckpoint(manager: EntityManager): Promise<StoredCheckpoint | undefined> {
  const rows: RawCheckpoint[] = await manager.query(`SELECT ${COLUMNS} FROM ${tableOf(manager, AuditCheckpointEntity)} ORDER BY number DESC LIMIT 1`);
  return rows[0] && fromRow(rows[0]);
}

/** Stores a checkpoint. */
export async function insertCheckpoint(manager: EntityManager, checkpoint: StoredCheckpoint): Promise<void> {
  const params = Dialect.of(manager).parameters();
  const values = [checkpoint.number, checkpoint.sequence, checkpoint.headHash, checkpoint.createdAtUs, checkpoint.keyId, checkpoint.mac.toString('base64')];
  await manager.query(
    `INSERT INTO ${tableOf(manager, AuditCheckpointEntity)} (${COLUMNS}) VALUES (${values.map((value) => params.bind(value)).join(', ')})`,
    params.values,
  );
}

/** Up to `limit` checkpoints numbered above `after` and at most `upTo`, by number. */
export async function findCheckpoints(manager: EntityManager, page: { after: bigint; limit: number; upTo: bigint }): Promise<StoredCheckpoint[]> {
  const params = Dialect.of(manager).parameters();
  const rows: RawCheckpoint[] = await manager.query(
    `SELECT ${COLUMNS} FROM ${tableOf(manager, AuditCheckpointEntity)}
     WHERE number > ${params.bind(page.after)} AND number <= ${params.bind(page.upTo)} ORDER BY number LIMIT ${page.limit}`,
    params.values,
  );
  return rows.map(fromRow);
}

/**
 * The chain head and the number of the last checkpoint, the checkpoint read first: every
 * checkpoint committed by then covers no record past the head read after it (the head only moves
 * on), so a reader that stops at both sees checkpoints and records that agree.
 */
export async function headAndLastCheckpoint(manager: EntityManager): Promise<{ head: ChainHead | undefined; lastNumber: bigint }> {
  const last = await lastCheckpoint(manager);
  return { lastNumber: last?.number ?? 0n, head: await readChainHead(manager) };
}

/** The checkpoints numbered up to `upTo`, in number order, read `batchSize` at a time. */
export function storedCheckpoints(dataSource: DataSource, upTo: bigint, batchSize: number): AsyncGenerator<StoredCheckpoint> {
  return readAhead(
    (after) => dataSource.transaction((manager) => findCheckpoints(manager, { after, limit: batchSize, upTo })),
    (checkpoint) => checkpoint.number,
    batchSize,
  );
}

interface RawCheckpoint {
  number: string | number;
  sequence: string | number;
  head_hash: string;
  created_at_us: string | number;
  key_id: string;
  mac: string;
}

function fromRow(row: RawCheckpoint): StoredCheckpoint {
  return {
    number: BigInt(row.number),
    sequence: BigInt(row.sequence),
    headHash: row.head_hash,
    createdAtUs: BigInt(row.created_at_us),
    keyId: row.key_id,
    mac: Buffer.from(row.mac, 'base64'),
  };
}

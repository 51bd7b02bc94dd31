import { Dialect, tableOf } from '@trellis/platform';
import type { EntityManager } from 'typeorm';
import { AuditChainHeadEntity, AuditRecordEntity } from './audit.entity';
import type { AuditFields } from './canonical';

/** A record as stored: its place in the chain, its event columns and its hashes. */
export interface StoredRecord {
  sequence: bigint;
  fields: AuditFields;
  previousHash: string;
  hash: string;
}

/** The last record's sequence and hash (0 and the genesis hash for an empty chain). */
export interface ChainHead {
  sequence: bigint;
  hash: string;
}

/** Which records a query returns; every condition must hold. Values are always bound, never spliced. */
export interface RecordFilter {
  /** Projects the caller may read; `'all'` for an org admin. */
  projects: readonly string[] | 'all';
  projectId?: string;
  actor?: string;
  /** The user a service account acted for. */
  onBehalfOf?: string;
  resource?: { exact: string } | { prefix: string };
  /** The permission the calls needed (read, create, ...). */
  action?: string;
  /** The gRPC method of the calls: a full one, exactly, or `{ name }`, that method of any service. */
  method?: { exact: string } | { name: string };
  /** Earliest `occurred_at_us`, inclusive. */
  startUs?: bigint;
  /** Latest `occurred_at_us`, exclusive. */
  endUs?: bigint;
}

const COLUMNS =
  'sequence, event_id, service, actor, action, method, resource, project_id, outcome, reason, request_id, occurred_at_us, client_address, on_behalf_of, previous_hash, hash';
const ROWS_PER_INSERT = 1000;

/**
 * Reads the chain head and, on PostgreSQL, locks its row until the transaction ends, so appenders
 * in any process take turns. (On SQLite the kit already runs transactions one at a time.)
 */
export async function lockChainHead(manager: EntityManager): Promise<ChainHead> {
  const head = await selectHead(manager, Dialect.of(manager).forUpdate);
  if (!head) throw new Error(`${tableOf(manager, AuditChainHeadEntity)} has no row: the audit chain cannot be appended to`);
  return head;
}

/** The chain head, or undefined if its row is gone. */
export function readChainHead(manager: EntityManager): Promise<ChainHead | undefined> {
  return selectHead(manager, '');
}

/** Moves the chain head to the last appended record. */
export async function moveChainHead(manager: EntityManager, head: ChainHead): Promise<void> {
  const params = Dialect.of(manager).parameters();
  await manager.query(
    `UPDATE ${tableOf(manager, AuditChainHeadEntity)} SET sequence = ${params.bind(head.sequence)}, hash = ${params.bind(head.hash)} WHERE id = 1`,
    params.values,
  );
}

/** The event ids among `ids` that the chain already holds (the list is bound as one parameter, whatever its length). */
export async function knownEventIds(manager: EntityManager, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const params = Dialect.of(manager).parameters();
  const rows: Array<{ event_id: string }> = await manager.query(
    `SELECT event_id FROM ${tableOf(manager, AuditRecordEntity)} WHERE ${params.inList('event_id', ids)}`,
    params.values,
  );
  return new Set(rows.map((row) => row.event_id));
}

/** Inserts records with multi-row INSERTs. */
export async function insertRecords(manager: EntityManager, records: readonly StoredRecord[]): Promise<void> {
  const table = tableOf(manager, AuditRecordEntity);
  for (let start = 0; start < records.length; start += ROWS_PER_INSERT) {
    const params = Dialect.of(manager).parameters();
    const rows = records.slice(start, start + ROWS_PER_INSERT).map((record) => `(${rowValues(record).map((value) => params.bind(value)).join(', ')})`);
    await manager.query(`INSERT INTO ${table} (${COLUMNS}) VALUES ${rows.join(', ')}`, params.values);
  }
}

/**
 * Up to `limit` records matching `filter` with a sequence above `after` (and at most `upTo`, if
 * given), in sequence order.
 */
export async function findRecords(
  manager: EntityManager,
  filter: RecordFilter,
  page: { after: bigint; limit: number; upTo?: bigint },
): Promise<StoredRecord[]> {
  const params = Dialect.of(manager).parameters();
  const where = [`sequence > ${params.bind(page.after)}`];
  if (page.upTo !== undefined) where.push(`sequence <= ${params.bind(page.upTo)}`);
  if (filter.projects !== 'all') {
    if (filter.projects.length === 0) return [];
    where.push(params.inList('project_id', filter.projects));
  }
  if (filter.projectId) where.push(`project_id = ${params.bind(filter.projectId)}`);
  if (filter.actor) where.push(`actor = ${params.bind(filter.actor)}`);
  if (filter.onBehalfOf) where.push(`on_behalf_of = ${params.bind(filter.onBehalfOf)}`);
  if (filter.action) where.push(`action = ${params.bind(filter.action)}`);
  if (filter.method && 'exact' in filter.method) where.push(`method = ${params.bind(filter.method.exact)}`);
  if (filter.method && 'name' in filter.method) {
    // The method's last `/`-separated part: substr compares code points on both engines.
    const suffix = `/${filter.method.name}`;
    where.push(`substr(method, length(method) - ${[...suffix].length - 1}) = ${params.bind(suffix)}`);
  }
  if (filter.resource && 'exact' in filter.resource) where.push(`resource = ${params.bind(filter.resource.exact)}`);
  if (filter.resource && 'prefix' in filter.resource && filter.resource.prefix) {
    // substr compares code points on both engines; LIKE would be case-insensitive on SQLite.
    const length = [...filter.resource.prefix].length;
    where.push(`substr(resource, 1, ${length}) = ${params.bind(filter.resource.prefix)}`);
  }
  if (filter.startUs !== undefined) where.push(`occurred_at_us >= ${params.bind(filter.startUs)}`);
  if (filter.endUs !== undefined) where.push(`occurred_at_us < ${params.bind(filter.endUs)}`);
  const rows: RawRecord[] = await manager.query(
    `SELECT ${COLUMNS} FROM ${tableOf(manager, AuditRecordEntity)} WHERE ${where.join(' AND ')} ORDER BY sequence LIMIT ${page.limit}`,
    params.values,
  );
  return rows.map(fromRow);
}

/** The lowest sequence above the chain head, read in one statement; undefined if there is none. */
export async function firstSequenceAfterHead(manager: EntityManager): Promise<bigint | undefined> {
  const rows: Array<{ first: string | number | null }> = await manager.query(
    `SELECT MIN(sequence) AS first FROM ${tableOf(manager, AuditRecordEntity)}
     WHERE sequence > (SELECT sequence FROM ${tableOf(manager, AuditChainHeadEntity)} WHERE id = 1)`,
  );
  const first = rows[0]?.first;
  return first === null || first === undefined ? undefined : BigInt(first);
}

interface RawRecord {
  sequence: string | number;
  event_id: string;
  service: string;
  actor: string;
  action: string;
  method: string;
  resource: string;
  project_id: string;
  outcome: string;
  reason: string;
  request_id: string;
  occurred_at_us: string | number;
  client_address: string;
  on_behalf_of: string;
  previous_hash: string;
  hash: string;
}

function fromRow(row: RawRecord): StoredRecord {
  return {
    sequence: BigInt(row.sequence),
    fields: {
      eventId: row.event_id,
      service: row.service,
      actor: row.actor,
      action: row.action,
      method: row.method,
      resource: row.resource,
      projectId: row.project_id,
      outcome: row.outcome,
      reason: row.reason,
      requestId: row.request_id,
      occurredAtUs: BigInt(row.occurred_at_us),
      clientAddress: row.client_address,
      onBehalfOf: row.on_behalf_of,
    },
    previousHash: row.previous_hash,
    hash: row.hash,
  };
}

function rowValues({ sequence, fields, previousHash, hash }: StoredRecord): unknown[] {
  return [
    sequence,
    fields.eventId,
    fields.service,
    fields.actor,
    fields.action,
    fields.method,
    fields.resource,
    fields.projectId,
    fields.outcome,
    fields.reason,
    fields.requestId,
    fields.occurredAtUs,
    fields.clientAddress,
    fields.onBehalfOf ?? '',
    previousHash,
    hash,
  ];
}

async function selectHead(manager: EntityManager, suffix: string): Promise<ChainHead | undefined> {
  const rows: Array<{ sequence: string | number; hash: string }> = await manager.query(
    `SELECT sequence, hash FROM ${tableOf(manager, AuditChainHeadEntity)} WHERE id = 1${suffix}`,
  );
  return rows[0] ? { sequence: BigInt(rows[0].sequence), hash: rows[0].hash } : undefined;
}

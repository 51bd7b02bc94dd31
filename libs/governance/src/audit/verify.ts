import { FailedPreconditionError } from '@trellis/platform';
import type { DataSource } from 'typeorm';
import { findRecords, firstSequenceAfterHead, readChainHead, type ChainHead, type StoredRecord } from './audit-record.repository';
import { chainHash, GENESIS_HASH } from './canonical';

/** What is wrong at the first record that does not fit the chain. */
export type ChainProblem = 'altered' | 'inserted' | 'missing';

/** The outcome of checking the chain. */
export interface ChainVerdict {
  intact: boolean;
  /** Records read and checked, the bad one included. */
  recordsChecked: bigint;
  /** The first record that does not fit (for `missing`, the sequence that is gone); 0n when intact. */
  firstBadSequence: bigint;
  problem?: ChainProblem;
}

/** Where the check stands: the last record that fitted, and the hash of the one before it. */
interface Chain {
  sequence: bigint;
  hash: string;
  hashBefore?: string;
}

/**
 * Checks records read in sequence order against the chain and its head, stopping at the first that
 * does not fit:
 * - `missing`: a sequence number is skipped, or a record fits its own hash but chains to a record
 *   that is not there (one was deleted and the rest renumbered), or the chain ends before the head;
 * - `inserted`: a sequence repeats, or the record after this one chains past it to the record before;
 * - `altered`: a record's hash does not match its columns, or the last record's hash is not the head's.
 */
export async function checkChain(records: AsyncIterable<StoredRecord>, head: ChainHead): Promise<ChainVerdict> {
  const chain: Chain = { sequence: 0n, hash: GENESIS_HASH };
  let checked = 0n;
  const iterator = records[Symbol.asyncIterator]();
  try {
    let next = await iterator.next();
    while (!next.done) {
      const record = next.value;
      next = await iterator.next();
      checked += 1n;
      const bad = misfit(record, next.done ? undefined : next.value, chain);
      if (bad) return { intact: false, recordsChecked: checked, ...bad };
      chain.hashBefore = chain.hash;
      chain.sequence = record.sequence;
      chain.hash = record.hash;
    }
  } finally {
    await iterator.return?.();
  }
  if (chain.sequence < head.sequence) return { intact: false, recordsChecked: checked, firstBadSequence: chain.sequence + 1n, problem: 'missing' };
  if (chain.sequence > 0n && chain.hash !== head.hash) return { intact: false, recordsChecked: checked, firstBadSequence: chain.sequence, problem: 'altered' };
  return { intact: true, recordsChecked: checked, firstBadSequence: 0n };
}

function misfit(record: StoredRecord, following: StoredRecord | undefined, chain: Chain): { firstBadSequence: bigint; problem: ChainProblem } | undefined {
  if (record.sequence <= chain.sequence) return { firstBadSequence: record.sequence, problem: 'inserted' };
  if (record.sequence > chain.sequence + 1n) return { firstBadSequence: chain.sequence + 1n, problem: 'missing' };
  const linked = record.previousHash === chain.hash;
  const consistent = chainHash(record.previousHash, record.fields) === record.hash;
  if (linked && consistent) return undefined;
  if (following?.previousHash === chain.hash) return { firstBadSequence: record.sequence, problem: 'inserted' };
  if (!linked && chain.hashBefore !== undefined && record.previousHash === chain.hashBefore) {
    return { firstBadSequence: chain.sequence, problem: 'inserted' };
  }
  if (!linked && consistent) return { firstBadSequence: record.sequence, problem: 'missing' };
  return { firstBadSequence: record.sequence, problem: 'altered' };
}

/**
 * Verifies the stored chain: reads the head, checks every record up to it in batches (reading the
 * next batch while hashing this one), then looks for records beyond the head, which no append
 * wrote (`inserted`). Appends that commit meanwhile are not checked, and do not disturb the check.
 *
 * @throws FailedPreconditionError if the head row is gone: then nothing can be said about the chain's end.
 */
export async function verifyAuditChain(dataSource: DataSource, options: { batchSize?: number } = {}): Promise<ChainVerdict> {
  const head = await dataSource.transaction((manager) => readChainHead(manager));
  if (!head) throw new FailedPreconditionError('the audit chain head row is gone: audit_chain_head was tampered with');
  const verdict = await checkChain(scan(dataSource, head.sequence, options.batchSize ?? 5000), head);
  if (!verdict.intact) return verdict;
  const beyond = await dataSource.transaction((manager) => firstSequenceAfterHead(manager));
  return beyond === undefined ? verdict : { ...verdict, intact: false, firstBadSequence: beyond, problem: 'inserted' };
}

async function* scan(dataSource: DataSource, upTo: bigint, batchSize: number): AsyncGenerator<StoredRecord> {
  const fetch = (after: bigint) =>
    dataSource.transaction((manager) => findRecords(manager, { projects: 'all' }, { after, limit: batchSize, upTo }));
  let pending: Promise<StoredRecord[]> | undefined = fetch(0n);
  try {
    while (pending) {
      const batch: StoredRecord[] = await pending;
      pending = batch.length === batchSize ? fetch(batch[batch.length - 1].sequence) : undefined;
      yield* batch;
    }
  } finally {
    // A check that stops early leaves the read ahead running; its outcome no longer matters.
    pending?.catch(() => undefined);
  }
}

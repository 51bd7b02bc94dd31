import { FailedPreconditionError } from '@trellis/platform';
import type { DataSource } from 'typeorm';
import { headAndLastCheckpoint, storedCheckpoints, type StoredCheckpoint } from './audit-checkpoint.repository';
import { findRecords, firstSequenceAfterHead, type ChainHead, type StoredRecord } from './audit-record.repository';
import { chainHash, GENESIS_HASH } from './canonical';
import type { CheckpointKey } from './checkpoint-key';
import type { CheckpointSigner } from './checkpoint-signer';
import { readAhead } from './read-ahead';

/**
 * What is wrong at the first record or checkpoint that does not fit: a record `altered`,
 * `inserted` or `missing`; the chain `rewritten` (it no longer has the head a checkpoint signed);
 * a checkpoint missing (`checkpoint_missing`) or whose signature does not hold (`checkpoint_forged`).
 */
export type ChainProblem = 'altered' | 'inserted' | 'missing' | 'rewritten' | 'checkpoint_missing' | 'checkpoint_forged';

/** The outcome of checking the chain. */
export interface ChainVerdict {
  intact: boolean;
  /** Records read and checked, the bad one included. */
  recordsChecked: bigint;
  /** The first record that does not fit (for `missing`, the sequence that is gone); 0n when none. */
  firstBadSequence: bigint;
  problem?: ChainProblem;
  /** Checkpoints whose signature and head checked out. */
  checkpointsChecked: bigint;
  /** The checkpoint a problem concerns; 0n when none does. */
  firstBadCheckpoint: bigint;
  /** Records after the last checkpoint that checked out: only their hashes vouch for them. */
  recordsNotCovered: bigint;
  /** What was found, in words. */
  detail: string;
}

/** The checkpoints to hold the chain to, in number order, and the signer that checks them. */
export interface Checkpoints {
  stored: AsyncIterable<StoredCheckpoint>;
  signer: CheckpointSigner;
}

type Found = Pick<ChainVerdict, 'firstBadSequence' | 'problem' | 'detail'> & { firstBadCheckpoint?: bigint };

/** Where the check stands: the last record that fitted, and the hash of the one before it. */
interface Chain {
  sequence: bigint;
  hash: string;
  hashBefore?: string;
}

/**
 * Checks records read in sequence order against the chain, its head and, when given, its signed
 * checkpoints, stopping at the first that does not fit:
 * - `missing`: a sequence number is skipped, or a record fits its own hash but chains to a record
 *   that is not there (one was deleted and the rest renumbered), or the chain ends before the head
 *   or before the last record a checkpoint covers;
 * - `inserted`: a sequence repeats, or the record after this one chains past it to the record before;
 * - `altered`: a record's hash does not match its columns, or the last record's hash is not the head's;
 * - `rewritten`: a record fits, but its hash is not the one the checkpoint at its sequence signed:
 *   records up to it were changed and every later hash recomputed;
 * - `checkpoint_missing`, `checkpoint_forged`: a checkpoint number is skipped, or a checkpoint's
 *   signature does not verify (or it covers a record not after its predecessor's).
 *
 * @param checkpoints the checkpoints, or why checkpoints are off (for the verdict's detail).
 */
export async function checkChain(records: AsyncIterable<StoredRecord>, head: ChainHead, checkpoints: Checkpoints | { off: string }): Promise<ChainVerdict> {
  const chain: Chain = { sequence: 0n, hash: GENESIS_HASH };
  const signed = 'signer' in checkpoints ? await CheckpointCursor.open(checkpoints) : undefined;
  let checked = 0n;
  const verdict = (found?: Found): ChainVerdict => {
    const covered = signed?.last?.sequence ?? 0n;
    const notCovered = head.sequence > covered ? head.sequence - covered : 0n;
    return {
      intact: !found,
      recordsChecked: checked,
      firstBadSequence: found?.firstBadSequence ?? 0n,
      ...(found?.problem && { problem: found.problem }),
      checkpointsChecked: signed?.checked ?? 0n,
      firstBadCheckpoint: found?.firstBadCheckpoint ?? 0n,
      recordsNotCovered: notCovered,
      detail: found?.detail ?? intactDetail(signed, notCovered, 'off' in checkpoints ? checkpoints.off : ''),
    };
  };
  const iterator = records[Symbol.asyncIterator]();
  try {
    let next = await iterator.next();
    while (!next.done) {
      const record = next.value;
      next = await iterator.next();
      checked += 1n;
      const bad = misfit(record, next.done ? undefined : next.value, chain) ?? (await signed?.checkUpTo(record));
      if (bad) return verdict(bad);
      chain.hashBefore = chain.hash;
      chain.sequence = record.sequence;
      chain.hash = record.hash;
    }
    if (chain.sequence < head.sequence) return verdict(recordProblem(chain.sequence + 1n, 'missing'));
    if (chain.sequence > 0n && chain.hash !== head.hash) return verdict(recordProblem(chain.sequence, 'altered'));
    return verdict(await signed?.checkBeyond(chain.sequence));
  } finally {
    await iterator.return?.();
    await signed?.close();
  }
}

function misfit(record: StoredRecord, following: StoredRecord | undefined, chain: Chain): Found | undefined {
  if (record.sequence <= chain.sequence) return recordProblem(record.sequence, 'inserted');
  if (record.sequence > chain.sequence + 1n) return recordProblem(chain.sequence + 1n, 'missing');
  const linked = record.previousHash === chain.hash;
  const consistent = chainHash(record.previousHash, record.fields) === record.hash;
  if (linked && consistent) return undefined;
  if (following?.previousHash === chain.hash) return recordProblem(record.sequence, 'inserted');
  if (!linked && chain.hashBefore !== undefined && record.previousHash === chain.hashBefore) return recordProblem(chain.sequence, 'inserted');
  if (!linked && consistent) return recordProblem(record.sequence, 'missing');
  return recordProblem(record.sequence, 'altered');
}

const RECORD_PROBLEMS = {
  altered: 'its columns or its hash were changed: the hash no longer matches',
  inserted: 'it was put into the chain behind the service’s back',
  missing: 'it is gone from the chain',
};

function recordProblem(sequence: bigint, problem: keyof typeof RECORD_PROBLEMS): Found {
  return { firstBadSequence: sequence, problem, detail: `record ${sequence}: ${RECORD_PROBLEMS[problem]}` };
}

function intactDetail(signed: CheckpointCursor | undefined, notCovered: bigint, off: string): string {
  if (!signed) return `every record fits the chain; checkpoints are off (${off}), so only their hashes vouch for the ${notCovered} records`;
  if (!signed.last) return `every record fits the chain; no checkpoint was signed yet, so only their hashes vouch for the ${notCovered} records`;
  const covers = `every record fits the chain and its ${signed.checked} checkpoints; the last, number ${signed.last.number}, covers the records up to ${signed.last.sequence}`;
  return notCovered === 0n ? covers : `${covers}, and only their hashes vouch for the ${notCovered} after it`;
}

/** Walks the checkpoints alongside the records, checking each when the records reach it. */
class CheckpointCursor {
  /** The next checkpoint to check. */
  private pending?: StoredCheckpoint;
  /** The last checkpoint that checked out. */
  last?: StoredCheckpoint;
  checked = 0n;

  private constructor(
    private readonly iterator: AsyncIterator<StoredCheckpoint>,
    private readonly signer: CheckpointSigner,
  ) {}

  static async open({ stored, signer }: Checkpoints): Promise<CheckpointCursor> {
    const cursor = new CheckpointCursor(stored[Symbol.asyncIterator](), signer);
    await cursor.advance();
    return cursor;
  }

  /** Checks the checkpoints up to `record`, which fits the chain. */
  async checkUpTo(record: StoredRecord): Promise<Found | undefined> {
    while (this.pending && this.pending.sequence <= record.sequence) {
      const checkpoint = this.pending;
      const wrong = await this.problemWith(checkpoint);
      if (wrong) return wrong;
      if (checkpoint.headHash !== record.hash) {
        const since = this.last ? `after record ${this.last.sequence}, which checkpoint ${this.last.number} covers` : 'at or after its first record';
        return {
          firstBadSequence: record.sequence,
          firstBadCheckpoint: checkpoint.number,
          problem: 'rewritten',
          detail: `record ${record.sequence}'s hash is not the one checkpoint ${checkpoint.number} signed: the chain was rewritten ${since}, with every later hash recomputed`,
        };
      }
      this.last = checkpoint;
      this.checked += 1n;
      await this.advance();
    }
    return undefined;
  }

  /** Checks that no checkpoint covers records past `chainEnd`, the last record there is. */
  async checkBeyond(chainEnd: bigint): Promise<Found | undefined> {
    if (!this.pending) return undefined;
    const checkpoint = this.pending;
    return (
      (await this.problemWith(checkpoint)) ?? {
        firstBadSequence: chainEnd + 1n,
        firstBadCheckpoint: checkpoint.number,
        problem: 'missing',
        detail: `checkpoint ${checkpoint.number} covers the records up to ${checkpoint.sequence}, but the chain ends at record ${chainEnd}: records were cut off its end`,
      }
    );
  }

  private async problemWith(checkpoint: StoredCheckpoint): Promise<Found | undefined> {
    const expected = (this.last?.number ?? 0n) + 1n;
    if (checkpoint.number !== expected) {
      return { firstBadSequence: 0n, firstBadCheckpoint: expected, problem: 'checkpoint_missing', detail: `checkpoint ${expected} is gone: the next one stored is number ${checkpoint.number}` };
    }
    const forged = (why: string): Found => ({ firstBadSequence: 0n, firstBadCheckpoint: checkpoint.number, problem: 'checkpoint_forged', detail: `checkpoint ${checkpoint.number}: ${why}` });
    const signature = await this.signer.problemWith(checkpoint);
    if (signature) return forged(signature);
    if (checkpoint.sequence <= (this.last?.sequence ?? 0n)) return forged(`it covers the records up to ${checkpoint.sequence}, no further than the checkpoint before it`);
    return undefined;
  }

  /** Stops reading checkpoints (a read ahead under way finishes unobserved). */
  async close(): Promise<void> {
    await this.iterator.return?.(undefined);
  }

  private async advance(): Promise<void> {
    const next = await this.iterator.next();
    this.pending = next.done ? undefined : next.value;
  }
}

/**
 * Verifies the stored chain: reads the last checkpoint's number and then the head, checks every
 * record up to the head and every checkpoint up to that number (reading the next batch while
 * checking this one), then looks for records beyond the head, which no append wrote (`inserted`).
 * Appends and checkpoints that commit meanwhile are not checked, and do not disturb the check.
 * With checkpoints off (`key` says why), records are checked against their hashes alone.
 *
 * @throws FailedPreconditionError if the head row is gone: then nothing can be said about the chain's end.
 */
export async function verifyAuditChain(dataSource: DataSource, key: CheckpointKey, options: { batchSize?: number } = {}): Promise<ChainVerdict> {
  const batchSize = options.batchSize ?? 5000;
  const { head, lastNumber } = await dataSource.transaction((manager) => headAndLastCheckpoint(manager));
  if (!head) throw new FailedPreconditionError('the audit chain head row is gone: audit_chain_head was tampered with', { reason: 'AUDIT_CHAIN_HEAD_MISSING' });
  const records = readAhead(
    (after) => dataSource.transaction((manager) => findRecords(manager, { projects: 'all' }, { after, limit: batchSize, upTo: head.sequence })),
    (record) => record.sequence,
    batchSize,
  );
  const checkpoints = 'signer' in key ? { stored: storedCheckpoints(dataSource, lastNumber, batchSize), signer: key.signer } : key;
  const verdict = await checkChain(records, head, checkpoints);
  if (!verdict.intact) return verdict;
  const beyond = await dataSource.transaction((manager) => firstSequenceAfterHead(manager));
  return beyond === undefined ? verdict : { ...verdict, intact: false, ...recordProblem(beyond, 'inserted') };
}

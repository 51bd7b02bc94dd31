import { MemoryKeyManager } from '@trellis/plugin-sdk/testing';
import type { StoredCheckpoint } from './audit-checkpoint.repository';
import { auditFieldsOf } from './audit.mapping';
import type { ChainHead, StoredRecord } from './audit-record.repository';
import { chainHash, GENESIS_HASH, type AuditFields } from './canonical';
import { CheckpointSigner } from './checkpoint-signer';
import { auditEvent } from './test-fixtures/audit-fixtures';
import { checkChain } from './verify';

/** A correct chain of `count` records and its head. */
function chainOf(count: number): { records: StoredRecord[]; head: ChainHead } {
  const records: StoredRecord[] = [];
  let previousHash = GENESIS_HASH;
  for (let index = 1; index <= count; index++) {
    const fields = auditFieldsOf(auditEvent({ resource: `runs/r-${index}` }));
    const hash = chainHash(previousHash, fields);
    records.push({ sequence: BigInt(index), fields, previousHash, hash });
    previousHash = hash;
  }
  return { records, head: { sequence: BigInt(count), hash: previousHash } };
}

/** A record that chains correctly to `previousHash` at `sequence`. */
function forged(sequence: bigint, previousHash: string, fields: AuditFields = auditFieldsOf(auditEvent({ actor: 'mallory' }))): StoredRecord {
  return { sequence, fields, previousHash, hash: chainHash(previousHash, fields) };
}

const renumbered = (records: StoredRecord[]) => records.map((record, index) => ({ ...record, sequence: BigInt(index + 1) }));

async function* stream(records: StoredRecord[]) {
  yield* records;
}

const check = (records: StoredRecord[], head: ChainHead) => checkChain(stream(records), head, { off: 'not under test' });

describe('checkChain', () => {
  it('finds an untouched chain intact and counts its records', async () => {
    const { records, head } = chainOf(10);
    expect(await check(records, head)).toEqual({
      intact: true,
      recordsChecked: 10n,
      firstBadSequence: 0n,
      checkpointsChecked: 0n,
      firstBadCheckpoint: 0n,
      recordsNotCovered: 10n,
      detail: 'every record fits the chain; checkpoints are off (not under test), so only their hashes vouch for the 10 records',
    });
  });

  it('finds an empty chain intact', async () => {
    expect(await check([], { sequence: 0n, hash: GENESIS_HASH })).toMatchObject({ intact: true, recordsChecked: 0n, firstBadSequence: 0n, recordsNotCovered: 0n });
  });

  it('names a record whose column was changed as altered', async () => {
    const { records, head } = chainOf(10);
    records[4] = { ...records[4], fields: { ...records[4].fields, actor: 'mallory' } };
    expect(await check(records, head)).toMatchObject({
      intact: false,
      recordsChecked: 5n,
      firstBadSequence: 5n,
      problem: 'altered',
      detail: 'record 5: its columns or its hash were changed: the hash no longer matches',
    });
  });

  it('names a record whose hash column was changed as altered', async () => {
    const { records, head } = chainOf(10);
    records[6] = { ...records[6], hash: 'f'.repeat(64) };
    expect(await check(records, head)).toMatchObject({ firstBadSequence: 7n, problem: 'altered' });
  });

  // Swapping record 3 for a re-hashed one leaves record 4 chained to a record that is not there, as
  // deleting the record before 4 and renumbering would: the hashes cannot tell the two apart.
  it('names the record after one replaced with a re-hashed forgery as missing its predecessor', async () => {
    const { records, head } = chainOf(10);
    records[2] = forged(3n, records[2].previousHash);
    expect(await check(records, head)).toMatchObject({ firstBadSequence: 4n, problem: 'missing' });
  });

  it('names the first sequence of a gap as missing', async () => {
    const { records, head } = chainOf(10);
    records.splice(3, 2);
    expect(await check(records, head)).toMatchObject({ intact: false, recordsChecked: 4n, firstBadSequence: 4n, problem: 'missing' });
  });

  it('names the first record as missing when the chain starts later', async () => {
    const { records, head } = chainOf(3);
    expect(await check(records.slice(1), head)).toMatchObject({ firstBadSequence: 1n, problem: 'missing' });
  });

  it('names a deleted record as missing even when the records after it were renumbered', async () => {
    const { records, head } = chainOf(10);
    records.splice(5, 1);
    expect(await check(renumbered(records), head)).toMatchObject({ firstBadSequence: 6n, problem: 'missing' });
  });

  it('names records cut off the end as missing, by the head', async () => {
    const { records, head } = chainOf(10);
    expect(await check(records.slice(0, 8), head)).toMatchObject({ intact: false, firstBadSequence: 9n, problem: 'missing' });
  });

  it('names a well-forged record slipped in (the rest renumbered) as inserted', async () => {
    const { records, head } = chainOf(10);
    records.splice(4, 0, forged(5n, records[3].hash));
    expect(await check(renumbered(records), head)).toMatchObject({ firstBadSequence: 5n, problem: 'inserted' });
  });

  it('names a badly forged record slipped in as inserted, not altered', async () => {
    const { records, head } = chainOf(10);
    records.splice(4, 0, { ...forged(5n, records[3].hash), hash: 'a'.repeat(64) });
    expect(await check(renumbered(records), head)).toMatchObject({ firstBadSequence: 5n, problem: 'inserted' });
  });

  it('names a record slipped in at the very start as inserted', async () => {
    const { records, head } = chainOf(4);
    records.unshift(forged(1n, GENESIS_HASH));
    expect(await check(renumbered(records), head)).toMatchObject({ firstBadSequence: 1n, problem: 'inserted' });
  });

  it('names a repeated sequence as inserted', async () => {
    const { records, head } = chainOf(10);
    records.splice(3, 0, forged(3n, records[1].hash));
    expect(await check(records, head)).toMatchObject({ firstBadSequence: 3n, problem: 'inserted' });
  });

  it('names the last record as altered when it no longer matches the head', async () => {
    const { records, head } = chainOf(5);
    records[4] = forged(5n, records[3].hash);
    expect(await check(records, head)).toMatchObject({ intact: false, recordsChecked: 5n, firstBadSequence: 5n, problem: 'altered' });
  });

  describe('against signed checkpoints', () => {
    const kms = new MemoryKeyManager();
    const signer = new CheckpointSigner(kms);
    /** Checkpoints signed at the given sequences of `records`, numbered from 1. */
    const signAt = (records: StoredRecord[], sequences: number[]) =>
      Promise.all(sequences.map((sequence, index) => signer.sign({ number: BigInt(index + 1), sequence: BigInt(sequence), headHash: records[sequence - 1].hash, createdAtUs: 1_767_225_600_000_000n + BigInt(index) })));
    const checkSigned = (records: StoredRecord[], head: ChainHead, checkpoints: StoredCheckpoint[], by = signer) =>
      checkChain(stream(records), head, { stored: streamOf(checkpoints), signer: by });

    it('finds a chain that still has every signed head intact, and counts the records after the last checkpoint', async () => {
      const { records, head } = chainOf(20);
      expect(await checkSigned(records, head, await signAt(records, [5, 10, 15]))).toEqual({
        intact: true,
        recordsChecked: 20n,
        firstBadSequence: 0n,
        checkpointsChecked: 3n,
        firstBadCheckpoint: 0n,
        recordsNotCovered: 5n,
        detail: 'every record fits the chain and its 3 checkpoints; the last, number 3, covers the records up to 15, and only their hashes vouch for the 5 after it',
      });
    });

    it('names a chain rewritten with every later hash recomputed, which its hashes alone cannot show, at the record a checkpoint disagrees with', async () => {
      const { records, head } = chainOf(20);
      const checkpoints = await signAt(records, [5, 10, 15]);
      const rewritten = rehashedFrom(records, 7, { actor: 'mallory' });
      const rewrittenHead = { sequence: head.sequence, hash: rewritten[19].hash };

      expect(await check(rewritten, rewrittenHead)).toMatchObject({ intact: true });
      expect(await checkSigned(rewritten, rewrittenHead, checkpoints)).toMatchObject({
        intact: false,
        recordsChecked: 10n,
        firstBadSequence: 10n,
        problem: 'rewritten',
        checkpointsChecked: 1n,
        firstBadCheckpoint: 2n,
        detail: "record 10's hash is not the one checkpoint 2 signed: the chain was rewritten after record 5, which checkpoint 1 covers, with every later hash recomputed",
      });
    });

    it('cannot see a rewrite of the records after the last checkpoint, and says how many those are', async () => {
      const { records, head } = chainOf(20);
      const rewritten = rehashedFrom(records, 16, { actor: 'mallory' });
      expect(await checkSigned(rewritten, { sequence: head.sequence, hash: rewritten[19].hash }, await signAt(records, [5, 15]))).toMatchObject({ intact: true, recordsNotCovered: 5n });
    });

    it('names a checkpoint whose head, sequence or MAC was altered as forged', async () => {
      const { records, head } = chainOf(20);
      const checkpoints = await signAt(records, [5, 10, 15]);
      const mac = Buffer.from(checkpoints[1].mac);
      mac[mac.length - 1] ^= 1;
      for (const altered of [
        { ...checkpoints[1], mac },
        { ...checkpoints[1], headHash: records[9].hash.replace(/^./, (c) => (c === '0' ? '1' : '0')) },
        { ...checkpoints[1], sequence: 11n, headHash: records[10].hash },
        { ...checkpoints[1], keyId: 'another-key' },
      ]) {
        expect(await checkSigned(records, head, [checkpoints[0], altered, checkpoints[2]])).toMatchObject({
          intact: false,
          problem: 'checkpoint_forged',
          firstBadCheckpoint: 2n,
          checkpointsChecked: 1n,
          detail: expect.stringMatching(/^checkpoint 2: /),
        });
      }
    });

    it('names checkpoints signed with a key the KMS does not hold as forged, saying so', async () => {
      const { records, head } = chainOf(10);
      const stranger = new CheckpointSigner(new MemoryKeyManager());
      const rotated = new MemoryKeyManager();
      const old = await new CheckpointSigner(rotated).sign({ number: 1n, sequence: 5n, headHash: records[4].hash, createdAtUs: 1n });
      rotated.rotate();
      rotated.forget();
      expect(await checkSigned(records, head, await signAt(records, [5]), stranger)).toMatchObject({
        problem: 'checkpoint_forged',
        detail: 'checkpoint 1: its MAC does not verify under key trellis-audit-checkpoints: the checkpoint or its MAC was altered',
      });
      expect(await checkSigned(records, head, [old], new CheckpointSigner(rotated))).toMatchObject({
        problem: 'checkpoint_forged',
        detail: 'checkpoint 1: its MAC names a key the KMS does not hold: version 1 of key trellis-audit-checkpoints is not held (forgotten)',
      });
    });

    it('names a checkpoint number that is skipped as missing', async () => {
      const { records, head } = chainOf(20);
      const checkpoints = await signAt(records, [5, 10, 15]);
      expect(await checkSigned(records, head, [checkpoints[0], checkpoints[2]])).toMatchObject({
        intact: false,
        problem: 'checkpoint_missing',
        firstBadCheckpoint: 2n,
        detail: 'checkpoint 2 is gone: the next one stored is number 3',
      });
    });

    it('names the records a checkpoint covers but the chain no longer has as missing, even with the head moved back', async () => {
      const { records } = chainOf(20);
      const checkpoints = await signAt(records, [5, 15]);
      expect(await checkSigned(records.slice(0, 12), { sequence: 12n, hash: records[11].hash }, checkpoints)).toMatchObject({
        intact: false,
        problem: 'missing',
        firstBadSequence: 13n,
        firstBadCheckpoint: 2n,
        detail: 'checkpoint 2 covers the records up to 15, but the chain ends at record 12: records were cut off its end',
      });
    });
  });
});

async function* streamOf<T>(items: T[]) {
  yield* items;
}

/** `records` with record `from` (1-based) given other fields and every hash from it on recomputed, as someone holding the database could. */
function rehashedFrom(records: StoredRecord[], from: number, change: Partial<AuditFields>): StoredRecord[] {
  const rewritten = records.slice(0, from - 1);
  let previousHash = rewritten.length ? rewritten[rewritten.length - 1].hash : GENESIS_HASH;
  for (const record of records.slice(from - 1)) {
    const fields = record.sequence === BigInt(from) ? { ...record.fields, ...change } : record.fields;
    const hash = chainHash(previousHash, fields);
    rewritten.push({ sequence: record.sequence, fields, previousHash, hash });
    previousHash = hash;
  }
  return rewritten;
}

import { auditFieldsOf } from './audit-fields';
import type { ChainHead, StoredRecord } from './audit-record.repository';
import { chainHash, GENESIS_HASH, type AuditFields } from './canonical';
import { auditEvent } from './test-fixtures/audit-fixtures';
import { checkChain } from './verify';

/** A correct chain of `count` records and its head. */
function chainOf(count: number): { records: StoredRecord[]; head: ChainHead } {
  const records: StoredRecord[] = [];
  let previousHash = GENESIS_HASH;
  for (let index = 1; index <= count; index++) {
    const fields = auditFieldsOf(auditEvent({ resource: `Run/r-${index}` }));
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

const check = (records: StoredRecord[], head: ChainHead) => checkChain(stream(records), head);

describe('checkChain', () => {
  it('finds an untouched chain intact and counts its records', async () => {
    const { records, head } = chainOf(10);
    expect(await check(records, head)).toEqual({ intact: true, recordsChecked: 10n, firstBadSequence: 0n });
  });

  it('finds an empty chain intact', async () => {
    expect(await check([], { sequence: 0n, hash: GENESIS_HASH })).toEqual({ intact: true, recordsChecked: 0n, firstBadSequence: 0n });
  });

  it('names a record whose column was changed as altered', async () => {
    const { records, head } = chainOf(10);
    records[4] = { ...records[4], fields: { ...records[4].fields, actor: 'mallory' } };
    expect(await check(records, head)).toEqual({ intact: false, recordsChecked: 5n, firstBadSequence: 5n, problem: 'altered' });
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
    expect(await check(records, head)).toEqual({ intact: false, recordsChecked: 4n, firstBadSequence: 4n, problem: 'missing' });
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
});

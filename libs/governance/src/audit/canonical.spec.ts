import { createHash } from 'node:crypto';
import { canonicalBytes, chainHash, GENESIS_HASH, type AuditFields } from './canonical';

const fields: AuditFields = {
  eventId: 'e-1',
  service: 'tracking',
  actor: 'user-1',
  action: 'create',
  method: 'trellis.tracking.v1.RunService/CreateRun',
  resource: 'runs/r-1',
  projectId: 'p1',
  outcome: 'OUTCOME_SUCCEEDED',
  reason: '',
  requestId: 'req-1',
  occurredAtUs: 1767225600123456n,
  clientAddress: 'ipv4:10.0.0.7:51234',
};

describe('canonical bytes and chain hash', () => {
  it('are a JSON array of the columns in a fixed order, with the time as a decimal string', () => {
    expect(canonicalBytes(fields).toString('utf8')).toBe(
      '["e-1","tracking","user-1","create","trellis.tracking.v1.RunService/CreateRun","runs/r-1","p1",' +
        '"OUTCOME_SUCCEEDED","","req-1","1767225600123456","ipv4:10.0.0.7:51234"]',
    );
  });

  it('add on_behalf_of as a thirteenth string only when a service acted for someone, so records made before the field keep their hashes', () => {
    expect(canonicalBytes({ ...fields, onBehalfOf: '' })).toEqual(canonicalBytes(fields));
    expect(chainHash(GENESIS_HASH, { ...fields, onBehalfOf: '' })).toBe(chainHash(GENESIS_HASH, fields));
    const delegated = { ...fields, actor: 'service-registry', onBehalfOf: 'user-1' };
    expect(canonicalBytes(delegated).toString('utf8')).toMatch(/,"ipv4:10\.0\.0\.7:51234","user-1"\]$/);
    expect(chainHash(GENESIS_HASH, delegated)).not.toBe(chainHash(GENESIS_HASH, { ...delegated, onBehalfOf: 'user-2' }));
  });

  it('escape only quotes, backslashes and control characters, and encode the rest as UTF-8', () => {
    const bytes = canonicalBytes({ ...fields, reason: 'no "write" on C:\\runs\n/é😀' });
    expect(bytes.toString('utf8')).toContain('"no \\"write\\" on C:\\\\runs\\n/é😀"');
    expect(bytes.includes(Buffer.from('é😀', 'utf8'))).toBe(true);
  });

  it('hash SHA-256 over the previous hash in hex followed by the canonical bytes', () => {
    const expected = createHash('sha256').update(Buffer.concat([Buffer.from(GENESIS_HASH, 'ascii'), canonicalBytes(fields)])).digest('hex');
    expect(chainHash(GENESIS_HASH, fields)).toBe(expected);
    expect(expected).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes the hash when any column or the previous hash changes', () => {
    const base = chainHash(GENESIS_HASH, fields);
    const variants: AuditFields[] = (Object.keys(fields) as Array<keyof AuditFields>).map((key) => ({
      ...fields,
      [key]: key === 'occurredAtUs' ? fields.occurredAtUs + 1n : `${fields[key]}x`,
    }));
    for (const variant of variants) expect(chainHash(GENESIS_HASH, variant)).not.toBe(base);
    expect(chainHash('1'.repeat(64), fields)).not.toBe(base);
  });

  it('keeps field boundaries: moving text from one column to the next changes the hash', () => {
    expect(chainHash(GENESIS_HASH, { ...fields, actor: 'ab', action: 'c' })).not.toBe(chainHash(GENESIS_HASH, { ...fields, actor: 'a', action: 'bc' }));
  });
});

import { create } from '@bufbuild/protobuf';
import { AuditEventSchema, Outcome } from '@trellis/proto';
import { auditEventOf, auditFieldsOf, microsOf, timestampOf } from './audit.mapping';
import { auditEvent } from './test-fixtures/audit-fixtures';

describe('audit fields', () => {
  it('store an event column by column and give the same event back', () => {
    const event = auditEvent({ outcome: Outcome.DENIED, reason: 'no role', eventTime: { seconds: 1767225600n, nanos: 123_456_000 } });
    const fields = auditFieldsOf(event);
    expect(fields).toMatchObject({ outcome: 'OUTCOME_DENIED', reason: 'no role', occurredAtUs: 1767225600123456n });
    expect(auditEventOf(fields)).toEqual(event);
  });

  it('cut the time to whole microseconds, also before 1970', () => {
    expect(microsOf({ $typeName: 'google.protobuf.Timestamp', seconds: 10n, nanos: 999_999_999 })).toBe(10_999_999n);
    expect(timestampOf(-1n)).toEqual({ $typeName: 'google.protobuf.Timestamp', seconds: -1n, nanos: 999_999_000 });
    expect(microsOf(timestampOf(-1_500_000n))).toBe(-1_500_000n);
  });

  it('replace what a database could not store exactly (NUL, unpaired surrogates) with U+FFFD', () => {
    const fields = auditFieldsOf(auditEvent({ reason: 'a\0b', resource: 'runs/\uD800x', actor: 'ok😀' }));
    expect(fields).toMatchObject({ reason: 'a\uFFFDb', resource: 'runs/\uFFFDx', actor: 'ok😀' });
  });

  it('give an event without an id a new one, and one without a time the current time', () => {
    const before = BigInt(Date.now()) * 1000n;
    const fields = auditFieldsOf(create(AuditEventSchema, { service: 'data' }));
    expect(fields.eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(fields.occurredAtUs).toBeGreaterThanOrEqual(before);
  });

  it('keep an outcome this version has no name for as its number', () => {
    const fields = auditFieldsOf(auditEvent({ outcome: 7 as Outcome }));
    expect(fields.outcome).toBe('7');
    expect(auditEventOf(fields).outcome).toBe(7);
  });
});

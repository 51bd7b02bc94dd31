import { Metadata, status } from '@grpc/grpc-js';
import { InvalidKeyError, ObjectNotFoundError } from '@trellis/plugin-sdk';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, ResourceExhaustedError, UnavailableError } from './domain-errors';
import { toGrpcError } from './grpc-error';
import { fromBinary } from '@bufbuild/protobuf';
import { StatusSchema } from '@trellis/proto';
import { MAX_STATUS_DETAILS } from '../grpc/grpc-status';
import { excerpt } from './field-checks';
import { STATUS_DETAILS_KEY, statusDetailsOf } from './status-details';

describe('toGrpcError', () => {
  const unexpected: unknown[] = [];
  const report = (error: unknown) => void unexpected.push(error);
  const call = { requestId: 'req', domain: 'widgets.trellis' };
  beforeEach(() => (unexpected.length = 0));
  const detailsOf = (answer: { metadata: Metadata }) => statusDetailsOf(answer.metadata);

  it('keeps a domain error\'s code and message', () => {
    expect(toGrpcError(new AlreadyExistsError('run r1 exists'), call, report)).toMatchObject({ code: status.ALREADY_EXISTS, details: 'run r1 exists' });
    expect(unexpected).toEqual([]);
  });

  it('maps plugin errors by their stable code', () => {
    expect(toGrpcError(new ObjectNotFoundError('a/b'), call, report)).toMatchObject({ code: status.NOT_FOUND });
    expect(detailsOf(toGrpcError(new ObjectNotFoundError('a/b'), call, report))).toMatchObject({ reason: 'OBJECT_NOT_FOUND' });
    expect(toGrpcError(new InvalidKeyError('../x', 'it escapes the root'), call, report)).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(unexpected).toEqual([]);
  });

  it('answers a unique-constraint violation (a lost create race) with ALREADY_EXISTS', () => {
    for (const code of ['23505', 'SQLITE_CONSTRAINT_UNIQUE']) {
      const raced = Object.assign(new Error('duplicate key value violates unique constraint'), { driverError: { code } });
      expect(toGrpcError(raced, call, report)).toMatchObject({ code: status.ALREADY_EXISTS });
    }
    expect(unexpected).toEqual([]);
  });

  it("answers a value PostgreSQL refuses (a NUL character, a number out of range) with INVALID_ARGUMENT and the database's reason", () => {
    const refused = Object.assign(new Error('query failed'), { driverError: { code: '22021', message: 'invalid byte sequence for encoding "UTF8": 0x00' } });
    expect(toGrpcError(refused, call, report)).toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: 'a value of the request cannot be stored or compared: invalid byte sequence for encoding "UTF8": 0x00',
    });
    expect(unexpected).toEqual([]);
  });

  it('turns anything else into INTERNAL naming only the request id, and reports the cause', () => {
    const cause = new Error('connection string postgres://user:secret@db');
    const answer = toGrpcError(cause, { requestId: 'req-9', domain: 'kittest.trellis' }, report);
    expect(answer).toMatchObject({ code: status.INTERNAL, details: 'internal error (request id req-9); the server log has the details' });
    expect(detailsOf(answer)).toEqual({ reason: 'INTERNAL', domain: 'kittest.trellis', metadata: {}, violations: [] });
    expect(unexpected).toEqual([cause]);
  });

  it("carries a domain error's reason, resource and domain in the ErrorInfo, defaulting the reason to the code's name", () => {
    const named = toGrpcError(new NotFoundError('run r1 not found', { reason: 'RUN_NOT_FOUND', resource: 'runs/r1', metadata: { hint: 'h' } }), call, report);
    expect(detailsOf(named)).toEqual({ reason: 'RUN_NOT_FOUND', domain: 'widgets.trellis', metadata: { resource: 'runs/r1', hint: 'h' }, resource: 'runs/r1', violations: [] });
    expect(detailsOf(toGrpcError(new AlreadyExistsError('run r1 exists'), call, report))).toMatchObject({ reason: 'ALREADY_EXISTS', domain: 'widgets.trellis', metadata: {} });
  });

  it('makes the field of an invalid argument its field violation', () => {
    const answer = toGrpcError(new InvalidArgumentError('is required', 'name'), call, report);
    expect(answer.details).toBe('name: is required');
    expect(detailsOf(answer)).toMatchObject({ reason: 'INVALID_ARGUMENT', violations: [{ field: 'name', description: 'is required' }] });
  });

  it('gives a retry delay as RetryInfo and retry-after, for rate limits and unavailable dependencies', () => {
    const limited = toGrpcError(new ResourceExhaustedError('slow down', 3), call, report);
    expect(detailsOf(limited)).toMatchObject({ reason: 'RESOURCE_EXHAUSTED', retryAfterSeconds: 3 });
    expect(limited.metadata.get('retry-after')).toEqual(['3']);
    const down = toGrpcError(new UnavailableError('the bus is down', { retryAfterSeconds: 1.5 }), call, report);
    expect(detailsOf(down)).toMatchObject({ reason: 'UNAVAILABLE', retryAfterSeconds: 1.5 });
    expect(down.metadata.get('retry-after')).toEqual(['2']);
    expect(toGrpcError(new ResourceExhaustedError('too big'), call, report).metadata.get('retry-after')).toEqual([]);
  });

  it("passes on a downstream call's details, its domain included, and names the code where it sent none", () => {
    const downstream = toGrpcError(new NotFoundError('run r1 not found', { reason: 'RUN_NOT_FOUND', resource: 'runs/r1' }), { requestId: 'r', domain: 'tracking.trellis' }, report);
    expect(detailsOf(toGrpcError(Object.assign(new Error('5 NOT_FOUND'), downstream), call, report))).toMatchObject({ reason: 'RUN_NOT_FOUND', domain: 'tracking.trellis', resource: 'runs/r1' });
    const bare = Object.assign(new Error('14 UNAVAILABLE'), { code: status.UNAVAILABLE, details: 'no connection', metadata: new Metadata() });
    expect(detailsOf(toGrpcError(bare, call, report))).toMatchObject({ reason: 'UNAVAILABLE', domain: 'widgets.trellis' });
  });

  it("repeats the status message in the Status as clients see it, cut as the status interceptor cuts grpc-message", () => {
    const long = `run ${'r'.repeat(5000)} not found`;
    const bytes = toGrpcError(new NotFoundError(long), call, report).metadata.get(STATUS_DETAILS_KEY)[0] as Buffer;
    expect(fromBinary(StatusSchema, bytes)).toMatchObject({ code: status.NOT_FOUND, message: excerpt(long, MAX_STATUS_DETAILS) });
  });

  it('refuses a reason that is not UPPER_SNAKE_CASE where it is written', () => {
    expect(() => new NotFoundError('gone', { reason: 'run-not-found' })).toThrow('error reason "run-not-found" is not UPPER_SNAKE_CASE');
  });
});

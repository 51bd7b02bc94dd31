import { status } from '@grpc/grpc-js';
import { InvalidKeyError, ObjectNotFoundError } from '@trellis/plugin-sdk';
import { AlreadyExistsError } from './domain-errors';
import { toGrpcError } from './grpc-error';

describe('toGrpcError', () => {
  const unexpected: unknown[] = [];
  const report = (error: unknown) => void unexpected.push(error);
  beforeEach(() => (unexpected.length = 0));

  it('keeps a domain error\'s code and message', () => {
    expect(toGrpcError(new AlreadyExistsError('run r1 exists'), 'req', report)).toMatchObject({ code: status.ALREADY_EXISTS, details: 'run r1 exists' });
    expect(unexpected).toEqual([]);
  });

  it('maps plugin errors by their stable code', () => {
    expect(toGrpcError(new ObjectNotFoundError('a/b'), 'req', report)).toMatchObject({ code: status.NOT_FOUND });
    expect(toGrpcError(new InvalidKeyError('../x', 'it escapes the root'), 'req', report)).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(unexpected).toEqual([]);
  });

  it('answers a unique-constraint violation (a lost create race) with ALREADY_EXISTS', () => {
    for (const code of ['23505', 'SQLITE_CONSTRAINT_UNIQUE']) {
      const raced = Object.assign(new Error('duplicate key value violates unique constraint'), { driverError: { code } });
      expect(toGrpcError(raced, 'req', report)).toMatchObject({ code: status.ALREADY_EXISTS });
    }
    expect(unexpected).toEqual([]);
  });

  it("answers a value PostgreSQL refuses (a NUL character, a number out of range) with INVALID_ARGUMENT and the database's reason", () => {
    const refused = Object.assign(new Error('query failed'), { driverError: { code: '22021', message: 'invalid byte sequence for encoding "UTF8": 0x00' } });
    expect(toGrpcError(refused, 'req', report)).toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: 'a value of the request cannot be stored or compared: invalid byte sequence for encoding "UTF8": 0x00',
    });
    expect(unexpected).toEqual([]);
  });

  it('turns anything else into INTERNAL naming only the request id, and reports the cause', () => {
    const cause = new Error('connection string postgres://user:secret@db');
    const answer = toGrpcError(cause, 'req-9', report);
    expect(answer).toMatchObject({ code: status.INTERNAL, details: 'internal error (request id req-9); the server log has the details' });
    expect(unexpected).toEqual([cause]);
  });
});

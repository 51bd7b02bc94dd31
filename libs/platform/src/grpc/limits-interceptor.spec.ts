import { status, type ServerInterceptingCall, type ServerMethodDefinition } from '@grpc/grpc-js';
import { InvalidArgumentError } from '../errors';
import { limitsInterceptor, MAX_STATUS_DETAILS } from './limits-interceptor';
import { RefusedRequest } from './request-limits';

/** The call under the interceptor: what grpc-js would send, and a way to deliver a request message. */
function interceptedCall() {
  const sent: Array<{ code: status; details: string }> = [];
  const handed: unknown[] = [];
  let deliver: (message: unknown) => void = () => undefined;
  const inner = {
    start: (listener: { onReceiveMessage(message: unknown): void }) => (deliver = (message) => listener.onReceiveMessage(message)),
    sendStatus: (answer: { code: status; details: string }) => sent.push(answer),
  } as unknown as ServerInterceptingCall;
  const call = limitsInterceptor()({ path: '/a.B/C' } as ServerMethodDefinition<unknown, unknown>, inner);
  call.start({ onReceiveMetadata: () => undefined, onReceiveMessage: (message: unknown) => handed.push(message), onReceiveHalfClose: () => undefined, onCancel: () => undefined });
  return { call, sent, handed, deliver: (message: unknown) => deliver(message) };
}

describe('limitsInterceptor', () => {
  it('answers a refused request with its status and never hands it on', () => {
    const { sent, handed, deliver } = interceptedCall();
    deliver(new RefusedRequest(new InvalidArgumentError('must be at most 64 characters', 'id')));
    expect(sent).toEqual([expect.objectContaining({ code: status.INVALID_ARGUMENT, details: 'id: must be at most 64 characters' })]);
    expect(handed).toEqual([]);
  });

  it('hands every other message on as it is', () => {
    const { sent, handed, deliver } = interceptedCall();
    deliver({ id: 'x' });
    expect(handed).toEqual([{ id: 'x' }]);
    expect(sent).toEqual([]);
  });

  it("cuts any status's details to a short prefix, so no answer carries a caller's whole value back", () => {
    const { call, sent } = interceptedCall();
    call.sendStatus({ code: status.NOT_FOUND, details: `project ${'p'.repeat(100_000)} not found` });
    expect(sent[0].code).toBe(status.NOT_FOUND);
    expect(sent[0].details).toBe(`project ${'p'.repeat(MAX_STATUS_DETAILS - 'project '.length)}...`);
  });
});

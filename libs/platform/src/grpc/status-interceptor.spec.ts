import { Metadata, status, type ServerInterceptingCallInterface, type ServerMethodDefinition } from '@grpc/grpc-js';
import { Metrics } from '../ops/metrics';
import { MAX_STATUS_DETAILS } from './grpc-status';
import { statusInterceptor } from './status-interceptor';

/** The call under the interceptor: what grpc-js was asked to send. */
function interceptedCall(metrics: Metrics) {
  const sent: Array<{ code: status; details: string }> = [];
  const messages: unknown[] = [];
  const listeners: unknown[] = [];
  const inner = {
    start: (listener: unknown) => listeners.push(listener),
    sendMessage: (message: unknown, callback: () => void) => {
      messages.push(message);
      callback();
    },
    sendStatus: (answer: { code: status; details: string }) => sent.push(answer),
    getPeer: () => 'ipv4:127.0.0.1:5123',
  } as unknown as ServerInterceptingCallInterface;
  const call = statusInterceptor(metrics)({ path: '/a.v1.B/C' } as ServerMethodDefinition<unknown, unknown>, inner);
  return { call, sent, messages, listeners };
}

const handled = async (metrics: Metrics, code: string) => {
  const lines = (await metrics.registry.metrics()).split('\n');
  const line = lines.find((text) => text.startsWith(`grpc_server_handled_total{grpc_service="a.v1.B",grpc_method="C",grpc_code="${code}"}`));
  return Number(line?.split(' ').pop() ?? 0);
};

describe('statusInterceptor', () => {
  it('counts every status a call is answered with, by service, method and code', async () => {
    const metrics = new Metrics();
    interceptedCall(metrics).call.sendStatus({ code: status.OK, details: 'OK' });
    interceptedCall(metrics).call.sendStatus({ code: status.OK, details: 'OK' });
    interceptedCall(metrics).call.sendStatus({ code: status.NOT_FOUND, details: 'widget x not found', metadata: new Metadata() });
    expect(await handled(metrics, 'OK')).toBe(2);
    expect(await handled(metrics, 'NOT_FOUND')).toBe(1);
  });

  it('hands the listener, messages and short statuses on as they are', () => {
    const { call, sent, messages, listeners } = interceptedCall(new Metrics());
    const listener = { onReceiveMetadata: () => undefined, onReceiveMessage: () => undefined, onReceiveHalfClose: () => undefined, onCancel: () => undefined };
    call.start(listener);
    const written = jest.fn();
    call.sendMessage({ id: 'x' }, written);
    call.sendStatus({ code: status.NOT_FOUND, details: 'widget x not found' });
    expect(listeners).toEqual([listener]);
    expect(messages).toEqual([{ id: 'x' }]);
    expect(written).toHaveBeenCalledTimes(1);
    expect(sent).toEqual([{ code: status.NOT_FOUND, details: 'widget x not found' }]);
    expect(call.getPeer()).toBe('ipv4:127.0.0.1:5123');
  });

  it("cuts any status's details to a short prefix, so no answer carries a caller's whole value back", () => {
    const { call, sent } = interceptedCall(new Metrics());
    call.sendStatus({ code: status.NOT_FOUND, details: `project ${'p'.repeat(100_000)} not found` });
    expect(sent[0].code).toBe(status.NOT_FOUND);
    expect(sent[0].details).toBe(`project ${'p'.repeat(MAX_STATUS_DETAILS - 'project '.length)}...`);
  });

  it('names the address the call came from even once grpc-js, the call having ended, says unknown', () => {
    const inner = { getPeer: () => 'unknown', getConnectionInfo: () => ({ remoteAddress: '127.0.0.1', remotePort: 5123 }) } as unknown as ServerInterceptingCallInterface;
    const call = statusInterceptor(new Metrics())({ path: '/a.v1.B/C' } as ServerMethodDefinition<unknown, unknown>, inner);
    expect(call.getPeer()).toBe('127.0.0.1:5123');
  });
});

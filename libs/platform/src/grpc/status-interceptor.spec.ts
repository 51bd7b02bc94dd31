import { create } from '@bufbuild/protobuf';
import {
  Client,
  credentials,
  Metadata,
  Server,
  ServerCredentials,
  status,
  type MethodDefinition,
  type sendUnaryData,
  type ServerInterceptingCallInterface,
  type ServerMethodDefinition,
  type ServerUnaryCall,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import { eventually } from '@trellis/testing';
import { GetWidgetResponseSchema, WidgetService } from '../../test/gen/trellis/kittest/v1/widget_service_pb';
import { Metrics } from '../ops/metrics';
import { packageDefinitionFor } from './package-definition';
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

  it('hands what the client sends to the listener, and messages and short statuses to grpc-js, as they are', () => {
    const { call, sent, messages, listeners } = interceptedCall(new Metrics());
    const heard: unknown[] = [];
    const listener = {
      onReceiveMetadata: (metadata: Metadata) => heard.push(metadata),
      onReceiveMessage: (message: unknown) => heard.push(message),
      onReceiveHalfClose: () => heard.push('half-close'),
      onCancel: () => heard.push('cancel'),
    };
    call.start(listener);
    const given = listeners[0] as typeof listener;
    const metadata = new Metadata();
    given.onReceiveMetadata(metadata);
    given.onReceiveMessage({ id: 'in' });
    given.onReceiveHalfClose();
    given.onCancel();
    expect(heard).toEqual([metadata, { id: 'in' }, 'half-close', 'cancel']);
    const written = jest.fn();
    call.sendMessage({ id: 'x' }, written);
    call.sendStatus({ code: status.NOT_FOUND, details: 'widget x not found' });
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

describe('a unary call through statusInterceptor, as its handler hears it', () => {
  const definition = packageDefinitionFor([WidgetService])[WidgetService.typeName] as ServiceDefinition;
  const getWidget = definition.GetWidget as MethodDefinition<unknown, unknown>;
  let server: Server;
  let client: Client;
  let answer: (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => void;
  const heard: string[] = [];

  beforeAll(async () => {
    server = new Server({ interceptors: [statusInterceptor(new Metrics())] });
    server.addService(definition, {
      GetWidget: (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
        call.once('cancelled', () => heard.push('cancelled'));
        answer(call, callback);
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  });

  beforeEach(() => void heard.splice(0));

  afterAll(() => {
    client.close();
    server.forceShutdown();
  });

  const call = (onCall?: (cancel: () => void) => void) =>
    new Promise<unknown>((resolve, reject) => {
      const sent = client.makeUnaryRequest(getWidget.path, getWidget.requestSerialize, getWidget.responseDeserialize, { id: 'w1' }, (error, response) =>
        error ? reject(error) : resolve(response),
      );
      onCall?.(() => sent.cancel());
    });

  it('is not cancelled once it has answered, so work it ties to the call is not aborted after the fact', async () => {
    answer = (_call, callback) => callback(null, create(GetWidgetResponseSchema));
    await call();
    // grpc-js tells the handler of a cancel in the tick it sends the status, long before the client reads the answer.
    await call();

    expect(heard).toEqual([]);
  });

  it('is cancelled when the client cancels it before the answer', async () => {
    let cancelCall!: () => void;
    answer = () => cancelCall();
    await expect(call((cancel) => (cancelCall = cancel))).rejects.toMatchObject({ code: status.CANCELLED });

    await eventually(() => expect(heard).toEqual(['cancelled']));
  });
});

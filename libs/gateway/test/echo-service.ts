import { create, createFileRegistry, type DescService } from '@bufbuild/protobuf';
import { FieldDescriptorProto_Label, FieldDescriptorProto_Type, FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import {
  Metadata,
  Server,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { packageDefinitionFor, setStatusDetails, type StatusDetails } from '@trellis/platform';

/**
 * A test-only gRPC service with one method of each kind, built from a descriptor at run time so
 * the gateway's transport (NDJSON in and out, errors, metadata) is exercised without a service lib.
 */
const file = create(FileDescriptorProtoSchema, {
  name: 'trellis/gatewaytest/v1/echo.proto',
  package: 'trellis.gatewaytest.v1',
  syntax: 'proto3',
  messageType: ['EchoRequest', 'EchoResponse'].map((name) => ({
    name,
    field: [
      { name: 'text', number: 1, type: FieldDescriptorProto_Type.STRING, label: FieldDescriptorProto_Label.OPTIONAL, jsonName: 'text' },
      { name: 'count', number: 2, type: FieldDescriptorProto_Type.INT64, label: FieldDescriptorProto_Label.OPTIONAL, jsonName: 'count' },
    ],
  })),
  service: [
    {
      name: 'EchoService',
      method: [
        { name: 'Echo', inputType: '.trellis.gatewaytest.v1.EchoRequest', outputType: '.trellis.gatewaytest.v1.EchoResponse' },
        { name: 'Repeat', inputType: '.trellis.gatewaytest.v1.EchoRequest', outputType: '.trellis.gatewaytest.v1.EchoResponse', serverStreaming: true },
        { name: 'Collect', inputType: '.trellis.gatewaytest.v1.EchoRequest', outputType: '.trellis.gatewaytest.v1.EchoResponse', clientStreaming: true },
        { name: 'Chat', inputType: '.trellis.gatewaytest.v1.EchoRequest', outputType: '.trellis.gatewaytest.v1.EchoResponse', clientStreaming: true, serverStreaming: true },
      ],
    },
  ],
});

/** trellis.gatewaytest.v1.EchoService. */
export const EchoService: DescService = createFileRegistry(file, () => undefined).getService('trellis.gatewaytest.v1.EchoService')!;

type Echo = { text: string; count: bigint };

/** `Bearer <token>|<x-request-id>` as the call's metadata carried them. */
const whoami = (metadata: Metadata) => `${metadata.get('authorization')[0] ?? ''}|${metadata.get('x-request-id')[0] ?? ''}`;

function retryAfter(seconds: bigint): Metadata {
  const metadata = new Metadata();
  if (seconds > 0n) metadata.set('retry-after', String(seconds));
  return metadata;
}

/** Trailing metadata with google.rpc.Status details, as the kit's servers send them. */
function withDetails(code: status, message: string, details: Partial<StatusDetails>): Metadata {
  const metadata = new Metadata();
  setStatusDetails(metadata, code, message, { reason: 'ECHO_FAILED', domain: 'echo.trellis', metadata: {}, violations: [], ...details });
  return metadata;
}

const NOT_FOUND = 'no echo named missing';
const INVALID = 'text: must not be "bad"';
const SLOW = 'slow down, the quota refills in 2.5 seconds';

const implementation: UntypedServiceImplementation = {
  Echo: (call: ServerUnaryCall<Echo, unknown>, done: sendUnaryData<unknown>) => {
    if (call.request.text === 'missing') return done({ code: status.NOT_FOUND, details: 'no echo named missing' });
    // Over a limit that asks for `count` seconds of patience (none when 0) in retry-after trailing metadata.
    if (call.request.text === 'busy') return done({ code: status.RESOURCE_EXHAUSTED, details: 'slow down', metadata: retryAfter(call.request.count) });
    if (call.request.text === 'crash') return done({ code: status.INTERNAL, details: 'the echo broke' });
    // The same failures with details, as a Trellis service sends them.
    if (call.request.text === 'missing-detailed') {
      return done({ code: status.NOT_FOUND, details: NOT_FOUND, metadata: withDetails(status.NOT_FOUND, NOT_FOUND, { reason: 'ECHO_NOT_FOUND', resource: 'echoes/missing', metadata: { resource: 'echoes/missing' } }) });
    }
    if (call.request.text === 'bad') {
      const violations = [{ field: 'text', description: 'must not be "bad"', reason: 'TEXT_FORBIDDEN' }];
      return done({ code: status.INVALID_ARGUMENT, details: INVALID, metadata: withDetails(status.INVALID_ARGUMENT, INVALID, { reason: 'INVALID_ARGUMENT', violations }) });
    }
    if (call.request.text === 'busy-detailed') {
      return done({ code: status.RESOURCE_EXHAUSTED, details: SLOW, metadata: withDetails(status.RESOURCE_EXHAUSTED, SLOW, { reason: 'ECHO_QUOTA_EXCEEDED', retryAfterSeconds: 2.5 }) });
    }
    done(null, { text: call.request.text === 'whoami' ? whoami(call.metadata) : call.request.text, count: call.request.count });
  },
  Repeat: (call: ServerWritableStream<Echo, unknown>) => {
    for (let index = 0n; index < call.request.count; index++) call.write({ text: call.request.text, count: index });
    if (call.request.text === 'fail-at-end') call.emit('error', { code: status.DATA_LOSS, details: 'the rest is lost' });
    else call.end();
  },
  Collect: (call: ServerReadableStream<Echo, unknown>, done: sendUnaryData<unknown>) => {
    const texts: string[] = [];
    let count = 0n;
    call.on('data', (request: Echo) => {
      texts.push(request.text);
      count += request.count;
    });
    call.on('end', () => done(null, { text: texts.join(','), count }));
  },
  // Events rather than for-await: ending a for-await loop destroys the duplex, and with it the status.
  Chat: (call: ServerDuplexStream<Echo, unknown>) => {
    call.on('data', (request: Echo) => call.write({ text: request.text.toUpperCase(), count: request.count }));
    call.on('end', () => call.end());
  },
};

/** Serves EchoService on a free port of 127.0.0.1 and returns its address and how to stop it. */
export async function startEchoServer(): Promise<{ address: string; stop(): Promise<void> }> {
  const server = new Server();
  server.addService(packageDefinitionFor([EchoService])[EchoService.typeName] as unknown as ServiceDefinition, implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    address: `127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

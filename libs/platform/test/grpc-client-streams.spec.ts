import { create } from '@bufbuild/protobuf';
import { Server, ServerCredentials, type ServerWritableStream, type ServiceDefinition } from '@grpc/grpc-js';
import { eventually } from '@trellis/testing';
import { createGrpcClient, packageDefinitionFor } from '../src';
import { WatchWidgetsResponseSchema, WidgetService } from './gen/trellis/kittest/v1/widget_service_pb';

describe('a server stream read through the kit client', () => {
  let server: Server;
  let address: string;
  const cancelled: boolean[] = [];

  beforeAll(async () => {
    server = new Server();
    const definition = packageDefinitionFor([WidgetService])['trellis.kittest.v1.WidgetService'] as ServiceDefinition;
    server.addService(definition, {
      // Sends one widget every 10 ms until the client goes away.
      watchWidgets: (call: ServerWritableStream<unknown, unknown>) => {
        const timer = setInterval(() => call.write(create(WatchWidgetsResponseSchema, {})), 10);
        call.on('cancelled', () => {
          clearInterval(timer);
          cancelled.push(true);
        });
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    address = `127.0.0.1:${port}`;
  });

  afterAll(() => server.forceShutdown());

  it('ends the call when the reader stops early, so the server stops sending', async () => {
    const client = createGrpcClient(WidgetService, address);
    let read = 0;
    for await (const _ of client.watchWidgets({ projectId: 'p1', count: 0 })) {
      void _;
      if (++read === 2) break;
    }
    await eventually(() => expect(cancelled).toEqual([true]));
    client.close();
  });
});

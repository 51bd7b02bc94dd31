// The two servers the kit's unary benches compare, answering trellis.kittest.v1.WidgetService/GetWidget
// with one widget: a Nest module for the kit (its handler checks the caller may read the widget's
// project) and a bare @grpc/grpc-js server with the same protobuf-es serializers.
import { create } from '@bufbuild/protobuf';
import { Server, ServerCredentials, type Metadata, type ServerUnaryCall, type ServiceDefinition } from '@grpc/grpc-js';
import { Controller, Module, type Type } from '@nestjs/common';
import { GrpcMethod, GrpcStreamMethod } from '@nestjs/microservices';
import { callerOf, packageDefinitionFor, Requires } from '@trellis/platform';
import { WidgetSchema, WidgetService, type GetWidgetRequest, type GetWidgetResponse } from '../../../libs/platform/test/gen/trellis/kittest/v1/widget_service_pb';

/** What both servers do on each call besides answering: nothing, or what the bench measures. */
export type OnCall = (call: ServerUnaryCall<unknown, unknown> | undefined) => void;

const widget = create(WidgetSchema, { id: 'w1', projectId: 'p1', name: 'gear', size: 42n });
const answer = (): GetWidgetResponse => ({ $typeName: 'trellis.kittest.v1.GetWidgetResponse', widget });

/** The kit service's module: GetWidget answers the widget to a caller who may read project p1. */
export function widgetBenchModule(onCall: OnCall = () => undefined): Type {
  @Controller()
  class BenchGrpc {
    @GrpcMethod('WidgetService', 'GetWidget')
    @Requires('read', 'Widget')
    getWidget(_request: GetWidgetRequest, metadata: Metadata, call?: ServerUnaryCall<unknown, unknown>): GetWidgetResponse {
      callerOf(metadata).assert('read', 'Widget', { projectId: 'p1' });
      onCall(call);
      return answer();
    }
    // The other methods exist so the kit's start-up check (every method guarded) passes.
    @GrpcMethod('WidgetService', 'CreateWidget') @Requires('create', 'Widget') createWidget() { return {}; }
    @GrpcMethod('WidgetService', 'WatchWidgets') @Requires('read', 'Widget') watchWidgets() { return []; }
    @GrpcStreamMethod('WidgetService', 'UploadWidgets') @Requires('create', 'Widget') uploadWidgets() { return {}; }
    @GrpcMethod('WidgetService', 'DeleteWidget') @Requires('delete', 'Widget') deleteWidget() { return {}; }
  }

  @Module({ controllers: [BenchGrpc] })
  class BenchModule {}
  return BenchModule;
}

/** A bare grpc-js server answering GetWidget with the same widget, on a free loopback port. */
export async function startBareWidgetServer(onCall: OnCall = () => undefined): Promise<{ address: string; stop(): void }> {
  const server = new Server();
  const definition = packageDefinitionFor([WidgetService])[WidgetService.typeName] as unknown as ServiceDefinition;
  server.addService(definition, {
    GetWidget: (call: ServerUnaryCall<unknown, unknown>, callback: (error: null, response: GetWidgetResponse) => void) => {
      onCall(call);
      callback(null, answer());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return { address: `127.0.0.1:${port}`, stop: () => server.forceShutdown() };
}

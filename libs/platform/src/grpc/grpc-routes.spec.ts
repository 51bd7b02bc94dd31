import 'reflect-metadata';
import { Controller, Module, type DynamicModule, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { GrpcMethod, GrpcStreamMethod } from '@nestjs/microservices';
import { WidgetService } from '../../test/gen/trellis/kittest/v1/widget_service_pb';
import { Public, Requires } from '../auth/permission.decorator';
import { grpcRoutesOf } from './grpc-routes';

@Controller()
class Widgets {
  @GrpcMethod('WidgetService', 'CreateWidget') @Requires('create', 'Widget') createWidget() { return 'created'; }
  @GrpcMethod('WidgetService', 'GetWidget') @Requires('read', 'Widget') getWidget() { return 'got'; }
  @GrpcMethod('WidgetService', 'WatchWidgets') @Public() watchWidgets() { return []; }
  @GrpcStreamMethod('WidgetService', 'UploadWidgets') @Requires('create', 'Widget') uploadWidgets() { return 'uploaded'; }
  @GrpcMethod('WidgetService', 'DeleteWidget') @Requires('delete', 'Widget', { audit: false }) deleteWidget() { return 'deleted'; }
}

@Controller()
class UploadTakingOneRequest {
  @GrpcMethod('WidgetService', 'CreateWidget') @Requires('create', 'Widget') createWidget() { return {}; }
  @GrpcMethod('WidgetService', 'GetWidget') @Requires('read', 'Widget') getWidget() { return {}; }
  @GrpcMethod('WidgetService', 'WatchWidgets') @Requires('read', 'Widget') watchWidgets() { return []; }
  @GrpcMethod('WidgetService', 'UploadWidgets') @Requires('create', 'Widget') uploadWidgets() { return {}; }
  @GrpcMethod('WidgetService', 'DeleteWidget') @Requires('delete', 'Widget') deleteWidget() { return {}; }
}

@Controller()
class OnlyUploads {
  @GrpcStreamMethod('WidgetService', 'UploadWidgets') @Requires('create', 'Widget') uploadWidgets() { return {}; }
}

describe('grpcRoutesOf', () => {
  const contexts: INestApplicationContext[] = [];
  const routesOf = async (...controllers: Array<new () => unknown>) => {
    @Module({ controllers })
    class Service {}
    const module: DynamicModule = { module: Service };
    const app = await NestFactory.createApplicationContext(module, { logger: false });
    contexts.push(app);
    return grpcRoutesOf(app, module, [WidgetService], 'widgets');
  };

  afterAll(() => Promise.all(contexts.map((app) => app.close())));

  it("works out each method's path, kind, permission and audit mark once, and calls its controller's handler", async () => {
    const routes = await routesOf(Widgets);
    expect(routes.map(({ path, kind, requirement, audited, call }) => ({ path, kind, requirement, audited, call }))).toEqual([
      { path: '/trellis.kittest.v1.WidgetService/CreateWidget', kind: 'unary', requirement: { action: 'create', kind: 'Widget' }, audited: true, call: { method: 'trellis.kittest.v1.WidgetService/CreateWidget', action: 'create' } },
      { path: '/trellis.kittest.v1.WidgetService/GetWidget', kind: 'unary', requirement: { action: 'read', kind: 'Widget' }, audited: false, call: { method: 'trellis.kittest.v1.WidgetService/GetWidget', action: 'read' } },
      { path: '/trellis.kittest.v1.WidgetService/WatchWidgets', kind: 'serverStream', requirement: { public: true }, audited: false, call: { method: 'trellis.kittest.v1.WidgetService/WatchWidgets', action: '' } },
      { path: '/trellis.kittest.v1.WidgetService/UploadWidgets', kind: 'clientStream', requirement: { action: 'create', kind: 'Widget' }, audited: true, call: { method: 'trellis.kittest.v1.WidgetService/UploadWidgets', action: 'create' } },
      { path: '/trellis.kittest.v1.WidgetService/DeleteWidget', kind: 'unary', requirement: { action: 'delete', kind: 'Widget' }, audited: false, call: { method: 'trellis.kittest.v1.WidgetService/DeleteWidget', action: 'delete' } },
    ]);
    expect(routes.map((route) => route.invoke(undefined, undefined as never, undefined))).toEqual(['created', 'got', [], 'uploaded', 'deleted']);
  });

  it('refuses a method without a handler, naming it', async () => {
    await expect(routesOf(OnlyUploads)).rejects.toThrow('refusing to start: trellis.kittest.v1.WidgetService/CreateWidget has no handler that declares a permission');
  });

  it('refuses a client-streaming method whose handler takes one request, where Nest answered UNIMPLEMENTED', async () => {
    await expect(routesOf(UploadTakingOneRequest)).rejects.toThrow(
      'refusing to start: trellis.kittest.v1.WidgetService/UploadWidgets takes a stream of requests: declare its handler with @GrpcStreamMethod',
    );
  });
});

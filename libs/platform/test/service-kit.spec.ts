import { create, createRegistry, fromBinary } from '@bufbuild/protobuf';
import { anyUnpack, FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { credentials, loadPackageDefinition, status, type GrpcObject, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { Controller, Module } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { eventually } from '@trellis/testing';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { join } from 'node:path';
import {
  assertEveryMethodGuarded,
  callEveryMethodWithoutToken,
  createGrpcClient,
  defineService,
  GrpcCallError,
  startService,
  type GrpcClient,
  type PlatformRuntime,
  type RunningService,
} from '../src';
import { TestKeySet, TestPlatform, unsignedToken } from '../src/testing';
import { AuditEventSchema, BadRequestSchema, ErrorInfoSchema, Outcome, ResourceInfoSchema, RetryInfoSchema, StatusSchema, type AuditEvent } from '@trellis/proto';
import { WidgetCreatedSchema, WidgetService } from './gen/trellis/kittest/v1/widget_service_pb';
import { slowCalls } from './widget/widget.grpc';
import { widgetService } from './widget/widget.service';
import { once } from 'node:events';

type WidgetClient = GrpcClient<(typeof WidgetService)['method']>;

describe('the service kit, through real gRPC', () => {
  let platform: TestPlatform;
  let keys: TestKeySet;
  let runtime: PlatformRuntime;
  let service: RunningService;
  let opsAddress: string;
  let editor: WidgetClient;
  let viewer: WidgetClient;
  let anonymous: WidgetClient;

  beforeAll(async () => {
    platform = await TestPlatform.start();
    ({ keys, runtime, opsAddress } = platform);
    service = await platform.startService(widgetService);
    editor = await platform.client(WidgetService, service.grpcAddress, { sub: 'editor-1', bindings: [{ project: 'p1', role: 'editor' }] });
    viewer = await platform.client(WidgetService, service.grpcAddress, { sub: 'viewer-1', bindings: [{ project: 'p1', role: 'viewer' }] });
    anonymous = await platform.client(WidgetService, service.grpcAddress);
  });

  afterAll(async () => {
    await platform?.stop();
  });

  describe('every RPC kind', () => {
    it('answers a unary call with protobuf-es messages, int64 included', async () => {
      const { widget } = await editor.createWidget({ projectId: 'p1', name: 'gear', size: 9_007_199_254_740_993n });
      expect(widget?.size).toBe(9_007_199_254_740_993n);
      const fetched = await editor.getWidget({ id: widget!.id });
      expect(fetched.widget).toMatchObject({ id: widget!.id, projectId: 'p1', name: 'gear', size: 9_007_199_254_740_993n });
    });

    it('streams responses to the client (server streaming)', async () => {
      const names: string[] = [];
      for await (const { widget } of viewer.watchWidgets({ projectId: 'p1', count: 5 })) names.push(widget!.name);
      expect(names).toEqual(['streamed-0', 'streamed-1', 'streamed-2', 'streamed-3', 'streamed-4']);
    });

    it('takes a stream from the client (client streaming)', async () => {
      const uploads = [1n, 2n, 3n, 4n].map((size) => ({ widget: { projectId: 'p1', name: `u${size}`, size } }));
      const answer = await editor.uploadWidgets(uploads);
      expect(answer.count).toBe(4);
      expect(answer.totalSize).toBe(10n);
    });
  });

  describe('errors', () => {
    it('maps domain errors to their gRPC codes with a message a person can act on', async () => {
      await expect(editor.getWidget({ id: 'nope' })).rejects.toMatchObject({ code: status.NOT_FOUND, details: 'widget nope not found' });
      await editor.createWidget({ projectId: 'p1', name: 'twice' });
      await expect(editor.createWidget({ projectId: 'p1', name: 'twice' })).rejects.toMatchObject({
        code: status.ALREADY_EXISTS,
        details: 'widget twice already exists in project p1',
      });
      await expect(editor.createWidget({ projectId: 'p1', name: 'has space' })).rejects.toMatchObject({
        code: status.INVALID_ARGUMENT,
        details: 'name: must be 1 to 64 letters, digits, - or _',
      });
    });

    const failure = (call: Promise<unknown>) => call.then(
      () => {
        throw new Error('the call succeeded');
      },
      (error: GrpcCallError) => error,
    );
    /** The google.rpc.Status in the error's trailer, decoded with the contract's own schemas. */
    const wireStatus = (error: GrpcCallError) => {
      const status = fromBinary(StatusSchema, error.metadata.get('grpc-status-details-bin')[0] as Buffer);
      const registry = createRegistry(ErrorInfoSchema, BadRequestSchema, RetryInfoSchema, ResourceInfoSchema);
      return { code: status.code, message: status.message, details: status.details.map((any) => anyUnpack(any, registry)) };
    };

    it('sends NOT_FOUND with google.rpc.Status details: the reason, the domain and the resource', async () => {
      const error = await failure(editor.getWidget({ id: 'nope' }));
      expect(wireStatus(error)).toEqual({
        code: status.NOT_FOUND,
        message: 'widget nope not found',
        details: [
          create(ErrorInfoSchema, { reason: 'WIDGET_NOT_FOUND', domain: 'widgets.trellis', metadata: { resource: 'widgets/nope' } }),
          create(ResourceInfoSchema, { resourceType: 'widgets', resourceName: 'widgets/nope' }),
        ],
      });
      expect(error).toBeInstanceOf(GrpcCallError);
      expect(error).toMatchObject({ code: status.NOT_FOUND, reason: 'WIDGET_NOT_FOUND', domain: 'widgets.trellis', resource: 'widgets/nope', violations: [] });
    });

    it('sends INVALID_ARGUMENT with a BadRequest field violation', async () => {
      const error = await failure(editor.createWidget({ projectId: 'p1', name: 'has space' }));
      expect(wireStatus(error).details).toEqual([
        create(ErrorInfoSchema, { reason: 'INVALID_ARGUMENT', domain: 'widgets.trellis' }),
        create(BadRequestSchema, { fieldViolations: [{ field: 'name', description: 'must be 1 to 64 letters, digits, - or _' }] }),
      ]);
      expect(error.violations).toEqual([{ field: 'name', description: 'must be 1 to 64 letters, digits, - or _' }]);
    });

    it('sends RESOURCE_EXHAUSTED with RetryInfo, and the retry-after trailer as before', async () => {
      const error = await failure(editor.createWidget({ projectId: 'p1', name: 'busy' }));
      expect(wireStatus(error).details).toEqual([
        create(ErrorInfoSchema, { reason: 'WIDGET_RATE_EXCEEDED', domain: 'widgets.trellis' }),
        create(RetryInfoSchema, { retryDelay: { seconds: 3n } }),
      ]);
      expect(error).toMatchObject({ code: status.RESOURCE_EXHAUSTED, reason: 'WIDGET_RATE_EXCEEDED', retryAfterSeconds: 3 });
      expect(error.metadata.get('retry-after')).toEqual(['3']);
    });

    it("sends the kit's own refusals with details: a missing token, a broken field rule", async () => {
      expect(await failure(anonymous.getWidget({ id: 'x' }))).toMatchObject({ code: status.UNAUTHENTICATED, reason: 'CREDENTIALS_MISSING', domain: 'widgets.trellis' });
      expect(await failure(editor.getWidget({ id: 'i'.repeat(65) }))).toMatchObject({
        code: status.INVALID_ARGUMENT,
        domain: 'widgets.trellis',
        violations: [{ field: 'id', description: 'must be at most 64 characters', reason: 'STRING_MAX_LEN' }],
      });
    });

    it('answers an unexpected error with INTERNAL, the request id, and nothing of the cause', async () => {
      const error = (await editor.createWidget({ projectId: 'p1', name: 'explode' }, { requestId: 'req-42' }).catch((e) => e)) as ServiceError;
      expect(error.code).toBe(status.INTERNAL);
      expect(error.details).toBe('internal error (request id req-42); the server log has the details');
      expect(error.details).not.toContain('hunter2');
      expect(error.metadata.get('x-request-id')).toEqual(['req-42']);
      expect(error).toMatchObject({ reason: 'INTERNAL', domain: 'widgets.trellis' });
    });
  });

  describe('auth', () => {
    const expectCode = async (promise: Promise<unknown>, code: status) =>
      expect(((await promise.catch((e) => e)) as ServiceError).code).toBe(code);

    it('rejects a call without a token', async () => {
      await expect(anonymous.getWidget({ id: 'x' })).rejects.toMatchObject({
        code: status.UNAUTHENTICATED,
        details: expect.stringContaining('missing credentials: send `authorization: Bearer <token>`'),
      });
    });

    it('rejects expired, wrongly signed, unsigned and wrong-audience tokens', async () => {
      const otherKeys = await TestKeySet.create();
      const bindings = [{ project: 'p1', role: 'owner' as const }];
      const bad = {
        expired: await keys.mint({ bindings, ttlSeconds: -60 }),
        wrongKey: await otherKeys.mint({ bindings }),
        unsigned: unsignedToken({ bindings: [{ project: 'p1', role: 'owner' }] }),
        wrongAudience: await keys.mint({ bindings, audience: 'someone-else' }),
        garbage: 'not-a-jwt',
      };
      for (const token of Object.values(bad)) {
        await expectCode(anonymous.getWidget({ id: 'x' }, { token }), status.UNAUTHENTICATED);
      }
      await expect(anonymous.getWidget({ id: 'x' }, { token: bad.expired })).rejects.toMatchObject({
        details: 'token expired; exchange your API key for a new one',
      });
    });

    it('denies a role too weak for the method', async () => {
      await expect(viewer.createWidget({ projectId: 'p1', name: 'nope' })).rejects.toMatchObject({
        code: status.PERMISSION_DENIED,
        details: 'viewer-1 has no role that may create Widget in any project',
      });
      const { widget } = await editor.createWidget({ projectId: 'p1', name: 'keep' });
      await expect(viewer.deleteWidget({ id: widget!.id })).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
      await editor.deleteWidget({ id: widget!.id });
      await expectCode(editor.getWidget({ id: widget!.id }), status.NOT_FOUND);
    });

    it('never lets a role reach into another project', async () => {
      const { widget } = await editor.createWidget({ projectId: 'p1', name: 'private' });
      const outsider = await keys.mint({ sub: 'owner-2', bindings: [{ project: 'p2', role: 'owner' }] });
      await expect(editor.createWidget({ projectId: 'p2', name: 'intrude' })).rejects.toMatchObject({
        code: status.PERMISSION_DENIED,
        details: 'editor-1 may not create Widget in project p2',
      });
      await expectCode(editor.getWidget({ id: widget!.id }, { token: outsider }), status.NOT_FOUND);
    });

    it('guards every method of every registered service', async () => {
      expect(() => assertEveryMethodGuarded(widgetService.module, widgetService.grpcServices)).not.toThrow();
      const results = await callEveryMethodWithoutToken(widgetService.grpcServices, service.grpcAddress);
      expect(results.map((result) => result.method)).toEqual(WidgetService.methods.map((m) => `trellis.kittest.v1.WidgetService/${m.name}`));
      for (const result of results) expect(result).toMatchObject({ code: status.UNAUTHENTICATED });
    });

    it('refuses to start a service with a method that declares no permission', async () => {
      @Controller()
      class Careless {
        @GrpcMethod('WidgetService', 'GetWidget')
        getWidget() {
          return {};
        }
      }
      @Module({ controllers: [Careless] })
      class CarelessModule {}
      const careless = defineService({ ...widgetService, name: 'careless', module: CarelessModule });
      await expect(startService(careless, runtime)).rejects.toThrow(
        'trellis.kittest.v1.WidgetService/GetWidget declares no permission (@Requires, @Authenticated or @Public)',
      );
    });
  });

  describe('health and reflection', () => {
    const load = (path: string, includeDirs: string[] = []) =>
      loadPackageDefinition(loadSync(path, { keepCase: true, longs: String, enums: String, defaults: true, includeDirs })) as GrpcObject;

    it('answers grpc.health.v1 Check for the server, each service, and NOT_FOUND for others', async () => {
      const health = load(healthProtoPath) as unknown as { grpc: { health: { v1: { Health: new (a: string, c: unknown) => HealthClient } } } };
      type HealthClient = { check(r: { service: string }, cb: (e: ServiceError | null, r: { status: string }) => void): void; close(): void };
      const client = new health.grpc.health.v1.Health(service.grpcAddress, credentials.createInsecure());
      const check = (name: string) => new Promise<string>((resolve, reject) => client.check({ service: name }, (e, r) => (e ? reject(e) : resolve(r.status))));
      expect(await check('')).toBe('SERVING');
      expect(await check('trellis.kittest.v1.WidgetService')).toBe('SERVING');
      await expect(check('no.such.Service')).rejects.toMatchObject({ code: status.NOT_FOUND });
      client.close();
    });

    it('lists services and serves their descriptors through server reflection', async () => {
      const reflectionProto = join(require.resolve('@grpc/reflection/package.json'), '../build/proto/grpc/reflection/v1/reflection.proto');
      const pkg = load(reflectionProto) as unknown as {
        grpc: { reflection: { v1: { ServerReflection: new (a: string, c: unknown) => { ServerReflectionInfo(): ReflectionStream; close(): void } } } };
      };
      type ReflectionStream = NodeJS.EventEmitter & { write(m: object): void; end(): void };
      const client = new pkg.grpc.reflection.v1.ServerReflection(service.grpcAddress, credentials.createInsecure());
      const ask = (request: object) =>
        new Promise<Record<string, unknown>>((resolve, reject) => {
          const stream = client.ServerReflectionInfo();
          stream.once('data', (answer: Record<string, unknown>) => {
            resolve(answer);
            stream.end();
          });
          stream.once('error', reject);
          stream.write(request);
        });
      const listed = (await ask({ list_services: '' })) as { list_services_response: { service: Array<{ name: string }> } };
      expect(listed.list_services_response.service.map((s) => s.name)).toContain('trellis.kittest.v1.WidgetService');
      const files = (await ask({ file_containing_symbol: 'trellis.kittest.v1.WidgetService' })) as {
        file_descriptor_response: { file_descriptor_proto: Buffer[] };
      };
      const described = files.file_descriptor_response.file_descriptor_proto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
      const file = described.find((f) => f.name === 'trellis/kittest/v1/widget_service.proto');
      expect(file?.service[0].method.map((m) => m.name)).toEqual(['CreateWidget', 'GetWidget', 'WatchWidgets', 'UploadWidgets', 'DeleteWidget']);
      client.close();
    });
  });

  describe('events', () => {
    it('publishes the event of a change once the change commits, and nothing for a refused one', async () => {
      const seen: string[] = [];
      const subscription = await runtime.bus.subscribe({
        durable: 'kit-spec',
        subject: 'trellis.kittest.v1.widget.*',
        handler: async (envelope) => {
          seen.push(fromBinary(WidgetCreatedSchema, envelope.payload).widget!.name);
          expect(envelope).toMatchObject({ subject: 'trellis.kittest.v1.widget.created', actor: 'editor-1', requestId: 'req-7', projectId: 'p1' });
        },
      });
      await editor.createWidget({ projectId: 'p1', name: 'evented' }, { requestId: 'req-7' });
      await expect(editor.createWidget({ projectId: 'p1', name: 'evented' })).rejects.toMatchObject({ code: status.ALREADY_EXISTS });
      await eventually(() => expect(seen).toEqual(['evented']));
      await subscription.stop();
    });
  });

  describe('audit', () => {
    it('audits mutating calls that succeed and every denied call, never reads', async () => {
      const events: AuditEvent[] = [];
      const subscription = await runtime.bus.subscribe({
        durable: 'kit-audit-spec',
        subject: 'trellis.widgets.v1.audit.recorded',
        handler: async (envelope) => void events.push(fromBinary(AuditEventSchema, envelope.payload)),
      });
      const { widget } = await editor.createWidget({ projectId: 'p1', name: 'audited' }, { requestId: 'req-audit-1' });
      await editor.getWidget({ id: widget!.id });
      await viewer.deleteWidget({ id: widget!.id }, { requestId: 'req-audit-2' }).catch(() => undefined);
      await anonymous.getWidget({ id: widget!.id }, { requestId: 'req-audit-3' }).catch(() => undefined);

      const mine = () => events.filter((event) => event.requestId.startsWith('req-audit-'));
      await eventually(() => expect(mine()).toHaveLength(3));
      const [created, deniedDelete, deniedRead] = [1, 2, 3].map((n) => mine().find((e) => e.requestId === `req-audit-${n}`)!);
      expect(created).toMatchObject({
        service: 'widgets',
        actor: 'editor-1',
        action: 'create',
        method: 'trellis.kittest.v1.WidgetService/CreateWidget',
        resource: 'projects/p1/widgets',
        projectId: 'p1',
        outcome: Outcome.SUCCEEDED,
      });
      expect(created.clientAddress).toMatch(/127\.0\.0\.1/);
      expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(deniedDelete).toMatchObject({ actor: 'viewer-1', action: 'delete', resource: 'widgets', outcome: Outcome.DENIED });
      expect(deniedDelete.reason).toBe('viewer-1 has no role that may delete Widget in any project');
      expect(deniedRead).toMatchObject({ actor: '', action: 'read', method: 'trellis.kittest.v1.WidgetService/GetWidget', outcome: Outcome.DENIED });
      await subscription.stop();
    });
  });

  describe('shutdown', () => {
    it('lets in-flight calls finish, then refuses new ones', async () => {
      const second = await startService(defineService({ ...widgetService, name: 'widgetstwo' }), runtime);
      const token = await keys.mint({ sub: 'editor-1', bindings: [{ project: 'p1', role: 'editor' }] });
      const client = createGrpcClient(WidgetService, second.grpcAddress, { token });
      const started = once(slowCalls, 'started');
      const inFlight = client.createWidget({ projectId: 'p1', name: 'slow' });
      await started;
      const closing = second.close();
      try {
        // Released only once the closing server refuses new calls, so the call is in flight through the shutdown.
        await eventually(() => expect(client.getWidget({ id: 'x' }, { timeoutMs: 1000 })).rejects.toMatchObject({ code: status.UNAVAILABLE }));
      } finally {
        slowCalls.emit('release');
      }
      expect((await inFlight).widget?.name).toBe('slow');
      await closing;
      await expect(client.getWidget({ id: 'x' }, { timeoutMs: 1000 })).rejects.toMatchObject({ code: status.UNAVAILABLE });
      client.close();
    });
  });

  describe('operations endpoints', () => {
    it('answers /healthz, /readyz and /metrics with the calls made', async () => {
      expect((await fetch(`${opsAddress}/healthz`)).status).toBe(200);
      const ready = await fetch(`${opsAddress}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({
        status: 'ready',
        checks: [
          { name: 'widgets.database', ok: true },
          { name: 'widgets.outbox', ok: true, pending: expect.any(Number) },
        ],
      });
      const metrics = await (await fetch(`${opsAddress}/metrics`)).text();
      expect(metrics).toMatch(/grpc_server_handled_total\{grpc_service="trellis.kittest.v1.WidgetService",grpc_method="CreateWidget",grpc_code="OK"\} [1-9]/);
      expect(metrics).toMatch(/grpc_server_handled_total\{grpc_service="trellis.kittest.v1.WidgetService",grpc_method="GetWidget",grpc_code="UNAUTHENTICATED"\} [1-9]/);
    });
  });
});

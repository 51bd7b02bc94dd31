import { status, type ServiceError } from '@grpc/grpc-js';
import { type GrpcClient, type RunningService } from '../src';
import { TestPlatform } from '../src/testing';
import { WidgetService } from './gen/trellis/kittest/v1/widget_service_pb';
import { widgetService } from './widget/widget.service';

type WidgetClient = GrpcClient<(typeof WidgetService)['method']>;

const MiB = 1024 * 1024;

describe('request limits, enforced by the kit before any handler', () => {
  let platform: TestPlatform;
  let service: RunningService;
  let editor: WidgetClient;

  beforeAll(async () => {
    platform = await TestPlatform.start();
    service = await platform.startService(widgetService);
    editor = await platform.client(WidgetService, service.grpcAddress, { sub: 'editor-1', bindings: [{ project: 'p1', role: 'editor' }] });
  });

  afterAll(async () => {
    await platform?.stop();
  });

  const failure = (call: Promise<unknown>) => call.then(() => undefined, (error: ServiceError) => error);

  it('refuses a string over its declared limit with INVALID_ARGUMENT naming the field and the limit, echoing none of it', async () => {
    // The handler would answer NOT_FOUND: the kit answered first.
    const error = await failure(editor.getWidget({ id: 'i'.repeat(100_000) }));
    expect(error).toMatchObject({ code: status.INVALID_ARGUMENT, details: 'id: must be at most 64 characters' });
  });

  it('names the field of a nested message', async () => {
    const uploads = [{ widget: { projectId: 'p1', name: 'ok', size: 1n } }, { widget: { projectId: 'p1', name: 'n'.repeat(65) } }];
    expect(await failure(editor.uploadWidgets(uploads))).toMatchObject({ code: status.INVALID_ARGUMENT, details: 'widget.name: must be at most 64 characters' });
  });

  it("refuses a request over its method's declared size with RESOURCE_EXHAUSTED, before decoding it", async () => {
    // The name also breaks its 64-character limit, but the size is checked first.
    const error = await failure(editor.createWidget({ projectId: 'p1', name: 'n'.repeat(2000) }));
    expect(error?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(error?.details).toMatch(/^the request is 20\d\d bytes; trellis\.kittest\.v1\.WidgetService\/CreateWidget takes at most 1024$/);
  });

  it('takes requests of up to 4 MiB where a method declares no size', async () => {
    expect(await failure(editor.getWidget({ id: 'i'.repeat(3 * MiB) }))).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(await failure(editor.getWidget({ id: 'i'.repeat(5 * MiB) }))).toMatchObject({ code: status.RESOURCE_EXHAUSTED });
  });

  it('ends a refused client stream once: one status, the rest of the stream ignored, and the next call answered', async () => {
    async function* uploads() {
      yield { widget: { projectId: 'p1', name: 'first', size: 1n } };
      yield { widget: { projectId: 'p1', name: 'n'.repeat(65) } };
      yield { widget: { projectId: 'p1', name: 'after', size: 2n } };
    }
    const counted = () => refusedUploads(platform.opsAddress);
    const before = await counted();
    expect(await failure(editor.uploadWidgets(uploads()))).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(await counted()).toBe(before + 1);
    expect(await editor.uploadWidgets([{ widget: { projectId: 'p1', name: 'u', size: 3n } }])).toMatchObject({ count: 1, totalSize: 3n });
  });
});

/** How many UploadWidgets calls the metrics count as answered INVALID_ARGUMENT. */
async function refusedUploads(opsAddress: string): Promise<number> {
  const metrics = await (await fetch(`${opsAddress}/metrics`)).text();
  const line = /grpc_server_handled_total\{grpc_service="trellis\.kittest\.v1\.WidgetService",grpc_method="UploadWidgets",grpc_code="INVALID_ARGUMENT"\} (\d+)/.exec(metrics);
  return Number(line?.[1] ?? 0);
}

import { status } from '@grpc/grpc-js';
import { createTestDatabase, eventually, startTcpProxy, testNatsConfig, type TcpProxy, type TestDatabase, type TestNatsConfig } from '@trellis/testing';
import type { RunningService } from '../src';
import { TestPlatform } from '../src/testing';
import { WidgetService } from './gen/trellis/kittest/v1/widget_service_pb';
import { widgetService } from './widget/widget.service';

describe('a distributed service while its PostgreSQL database is out of reach', () => {
  let database: TestDatabase<{ type: 'postgres'; url: string }>;
  let nats: TestNatsConfig;
  let proxy: TcpProxy;
  let platform: TestPlatform;
  let service: RunningService;

  beforeAll(async () => {
    database = await createTestDatabase();
    nats = testNatsConfig();
    const server = new URL(database.config.url);
    proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port) });
    server.host = `${proxy.host}:${proxy.port}`;
    platform = await TestPlatform.start({ TRELLIS_MODE: 'distributed', TRELLIS_WIDGETS_DATABASE_URL: server.toString(), ...nats.env });
    service = await platform.startService(widgetService);
  });

  afterAll(async () => {
    proxy?.unblock();
    await platform?.stop();
    await proxy?.close();
    await nats?.cleanup();
    await database?.drop();
  });

  it('answers writes UNAVAILABLE, so clients retry, and takes them again once the database is back', async () => {
    const client = await platform.client(WidgetService, service.grpcAddress, { sub: 'u1', bindings: [{ project: 'p1', role: 'editor' }] });
    await client.createWidget({ projectId: 'p1', name: 'before' });

    proxy.block();

    await expect(client.createWidget({ projectId: 'p1', name: 'during' })).rejects.toMatchObject({
      code: status.UNAVAILABLE,
      details: expect.stringMatching(/^the service's database is unavailable right now \(restarting or out of reach\); retry the call \(request id \S+\)$/),
    });
    const ready = await fetch(`${platform.opsAddress}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ checks: expect.arrayContaining([expect.objectContaining({ name: 'widgets.database', ok: false })]) });

    proxy.unblock();

    const { widget } = await eventually(() => client.createWidget({ projectId: 'p1', name: 'after' }));
    expect(widget?.name).toBe('after');
    expect((await fetch(`${platform.opsAddress}/readyz`)).status).toBe(200);
  });
});

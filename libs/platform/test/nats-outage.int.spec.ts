import { createTestDatabase, eventually, startTcpProxy, type TcpProxy, type TestDatabase, testNatsConfig, type TestNatsConfig } from '@trellis/testing';
import type { RunningService } from '../src';
import { TestPlatform } from '../src/testing';
import { WidgetService } from './gen/trellis/kittest/v1/widget_service_pb';
import { widgetService } from './widget/widget.service';

describe('a distributed service while NATS is out of reach', () => {
  let database: TestDatabase<{ type: 'postgres'; url: string }>;
  let nats: TestNatsConfig;
  let proxy: TcpProxy;
  let platform: TestPlatform;
  let service: RunningService;

  beforeAll(async () => {
    database = await createTestDatabase();
    nats = testNatsConfig();
    proxy = await startTcpProxy(nats.servers);
    platform = await TestPlatform.start({
      TRELLIS_MODE: 'distributed',
      TRELLIS_WIDGETS_DATABASE_URL: database.config.url,
      ...nats.env,
      TRELLIS_NATS_URL: proxy.url('nats'),
    });
    service = await platform.startService(widgetService);
  });

  afterAll(async () => {
    await platform?.stop();
    await proxy?.close();
    await nats?.cleanup();
    await database?.drop();
  });

  const readyz = async () => {
    const response = await fetch(`${platform.opsAddress}/readyz`);
    return { status: response.status, body: (await response.json()) as { status: string; checks: Array<Record<string, unknown>> } };
  };
  const check = (body: { checks: Array<Record<string, unknown>> }, name: string) => body.checks.find((each) => each.name === name);

  // The relay notices the outage when a publish times out (5 s) and NATS is retried every 2 s: room for a busy machine.
  const outage = { timeoutMs: 25_000 };

  it('takes writes, reports itself ready but degraded with the events waiting, and delivers them when NATS is back', async () => {
    const client = await platform.client(WidgetService, service.grpcAddress, { sub: 'u1', bindings: [{ project: 'p1', role: 'editor' }] });
    await eventually(async () => expect(await readyz()).toMatchObject({ status: 200, body: { status: 'ready' } }));
    expect(check((await readyz()).body, 'events.nats')).toEqual({ name: 'events.nats', ok: true });

    proxy.block();
    await client.createWidget({ projectId: 'p1', name: 'while-nats-is-down' });

    await eventually(async () => {
      const { status, body } = await readyz();
      expect({ status, state: body.status }).toEqual({ status: 200, state: 'degraded' });
      expect(check(body, 'events.nats')).toEqual({
        name: 'events.nats',
        ok: true,
        degraded: `NATS at ${proxy.url('nats')} is out of reach; reconnecting. Writes still succeed: their events wait in the outboxes`,
      });
      expect(check(body, 'widgets.outbox')).toEqual({
        name: 'widgets.outbox',
        ok: true,
        pending: expect.any(Number),
        degraded: expect.stringMatching(/^events wait in the outbox: the relay cannot deliver them since \S+ \(.+\); retrying$/),
      });
      expect(check(body, 'widgets.outbox')?.pending).toBeGreaterThan(0);
    }, outage);

    proxy.unblock();

    await eventually(async () => {
      const { status, body } = await readyz();
      expect({ status, state: body.status }).toEqual({ status: 200, state: 'ready' });
      expect(check(body, 'widgets.outbox')).toEqual({ name: 'widgets.outbox', ok: true, pending: 0 });
    }, outage);
  }, 60_000);
});

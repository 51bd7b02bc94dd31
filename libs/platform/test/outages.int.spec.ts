import { status } from '@grpc/grpc-js';
import { createTestDatabase, eventually, startTcpProxy, testNatsConfig } from '@trellis/testing';
import { TestPlatform } from '../src/testing';
import { WidgetService } from './gen/trellis/kittest/v1/widget_service_pb';
import { widgetService } from './widget/widget.service';

type Readiness = { status: number; body: { status: string; checks: Array<Record<string, unknown>> } };

/** The widget service in distributed mode, with its PostgreSQL database or NATS reached through a proxy the spec can cut. */
async function widgetsWithProxied(cut: 'database' | 'nats') {
  const database = await createTestDatabase();
  const nats = testNatsConfig();
  const proxy = await startTcpProxy(cut === 'nats' ? nats.servers : database.config.url);
  const proxiedDatabase = new URL(database.config.url);
  proxiedDatabase.host = `${proxy.host}:${proxy.port}`;
  const platform = await TestPlatform.start({
    TRELLIS_MODE: 'distributed',
    ...nats.env,
    ...(cut === 'nats' ? { TRELLIS_NATS_URL: proxy.url('nats') } : {}),
    TRELLIS_WIDGETS_DATABASE_URL: cut === 'database' ? proxiedDatabase.toString() : database.config.url,
  });
  const service = await platform.startService(widgetService);
  return {
    proxy,
    client: await platform.client(WidgetService, service.grpcAddress, { sub: 'u1', bindings: [{ project: 'p1', role: 'editor' }] }),
    readyz: async (): Promise<Readiness> => {
      const response = await fetch(`${platform.opsAddress}/readyz`);
      return { status: response.status, body: (await response.json()) as Readiness['body'] };
    },
    stop: async () => {
      proxy.unblock();
      await platform.stop();
      await proxy.close();
      await nats.cleanup();
      await database.drop();
    },
  };
}

const check = (body: Readiness['body'], name: string) => body.checks.find((each) => each.name === name);

describe('a distributed service while NATS is out of reach', () => {
  let widgets: Awaited<ReturnType<typeof widgetsWithProxied>>;

  beforeAll(async () => (widgets = await widgetsWithProxied('nats')));
  afterAll(() => widgets?.stop());

  // The relay notices the outage when a publish times out (5 s) and NATS is retried every 2 s: room for a busy machine.
  const outage = { timeoutMs: 25_000 };

  it('takes writes, reports itself ready but degraded with the events waiting, and delivers them when NATS is back', async () => {
    const { proxy, client, readyz } = widgets;
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

describe('a distributed service while its PostgreSQL database is out of reach', () => {
  let widgets: Awaited<ReturnType<typeof widgetsWithProxied>>;

  beforeAll(async () => (widgets = await widgetsWithProxied('database')));
  afterAll(() => widgets?.stop());

  it('answers writes UNAVAILABLE, so clients retry, is not ready, and takes writes again once the database is back', async () => {
    const { proxy, client, readyz } = widgets;
    await client.createWidget({ projectId: 'p1', name: 'before' });

    proxy.block();

    await expect(client.createWidget({ projectId: 'p1', name: 'during' })).rejects.toMatchObject({
      code: status.UNAVAILABLE,
      details: expect.stringMatching(/^the service's database is unavailable right now \(restarting or out of reach\); retry the call \(request id \S+\)$/),
    });
    const during = await readyz();
    expect(during.status).toBe(503);
    expect(check(during.body, 'widgets.database')).toMatchObject({ ok: false });

    proxy.unblock();

    const { widget } = await eventually(() => client.createWidget({ projectId: 'p1', name: 'after' }));
    expect(widget?.name).toBe('after');
    expect((await readyz()).status).toBe(200);
  });
});

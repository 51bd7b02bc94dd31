import { createTestDatabase, eventually, startTcpProxy, type TcpProxy, type TestDatabase } from '@trellis/testing';
import { Writable } from 'node:stream';
import pino from 'pino';
import { loadConfig } from '../config';
import { PlatformRuntime } from '../service/platform-runtime';
import { startService } from '../service/start-service';
import { activity, kitV2WidgetService } from '../service/test-fixtures/kit-v2-widgets';

/** One replica of the widgets service: its own process state, the shared PostgreSQL database at `databaseUrl`. */
async function startReplica(replica: string, databaseUrl: string) {
  const logs: string[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => done(void logs.push(chunk.toString())) });
  const config = loadConfig({
    services: ['widgets'],
    env: {
      TRELLIS_MODE: 'distributed',
      TRELLIS_OPS_PORT: '0',
      TRELLIS_WIDGETS_PORT: '0',
      TRELLIS_AUTH_JWKS_URL: 'http://127.0.0.1:1/jwks',
      TRELLIS_WIDGETS_DATABASE_URL: databaseUrl,
      TRELLIS_WIDGETS_REPLICA: replica,
    },
  });
  const runtime = await PlatformRuntime.create(config, { logger: pino({ level: 'info' }, sink), withoutBroker: true });
  const service = await startService(kitV2WidgetService, runtime).catch(async (error: unknown) => {
    await runtime.close();
    throw error;
  });
  let stopped = false;
  return {
    logs,
    waiting: () => logs.some((line) => line.includes('another replica runs this worker; waiting to take over')),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await service.close();
      await runtime.close();
    },
  };
}

describe('a worker of a service with two replicas on one PostgreSQL database', () => {
  let database: TestDatabase<{ type: 'postgres'; url: string }>;
  let replicas: Array<Awaited<ReturnType<typeof startReplica>>>;
  let proxy: TcpProxy | undefined;

  beforeEach(async () => {
    database = await createTestDatabase();
    replicas = [];
    activity.reset();
  });

  afterEach(async () => {
    proxy?.unblock();
    for (const replica of replicas) await replica.stop();
    await proxy?.close();
    proxy = undefined;
    await database.drop();
  });

  it('runs on exactly one replica, and the other takes over when the first stops', async () => {
    const first = await startReplica('a', database.config.url);
    replicas.push(first);
    await eventually(() => expect([...activity.running]).toEqual(['a']));
    const second = await startReplica('b', database.config.url);
    replicas.push(second);
    await eventually(() => expect(second.waiting()).toBe(true));
    expect([...activity.running]).toEqual(['a']);
    expect(activity.runs).toEqual(['a']);

    await first.stop();
    await eventually(() => expect([...activity.running]).toEqual(['b']));
    expect(activity.runs).toEqual(['a', 'b']);
    expect(activity.stops).toEqual(['a: database open']);
  });

  it('moves to the other replica when the leader loses its database connection, and the leader stops its run', async () => {
    proxy = await startTcpProxy(database.config.url);
    const viaProxy = new URL(database.config.url);
    viaProxy.host = `${proxy.host}:${proxy.port}`;
    const leader = await startReplica('a', viaProxy.toString());
    replicas.push(leader);
    await eventually(() => expect([...activity.running]).toEqual(['a']));
    const other = await startReplica('b', database.config.url);
    replicas.push(other);
    await eventually(() => expect(other.waiting()).toBe(true));

    proxy.block();
    await eventually(() => expect([...activity.running]).toEqual(['b']));
    expect(activity.runs).toEqual(['a', 'b']);
    expect(leader.logs.join('')).toContain('lost the database connection that holds the worker lock');
  });
});

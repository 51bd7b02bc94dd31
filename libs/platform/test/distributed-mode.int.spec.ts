import { fromBinary } from '@bufbuild/protobuf';
import { createTestDatabase, eventually, TestKeySet, testNatsConfig, type TestDatabase, type TestNatsConfig } from '@trellis/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createGrpcClient, loadConfig, PlatformRuntime, startService, type RunningService } from '../src';
import { WidgetCreatedSchema, WidgetService } from './gen/trellis/kittest/v1/widget_service_pb';
import { widgetService } from './widget/widget.service';

describe('a service in distributed mode (PostgreSQL, NATS JetStream)', () => {
  let dir: string;
  let database: TestDatabase<{ type: 'postgres'; url: string }>;
  let nats: TestNatsConfig;
  let runtime: PlatformRuntime;
  let service: RunningService;
  let keys: TestKeySet;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trellis-dist-'));
    keys = await TestKeySet.create();
    writeFileSync(join(dir, 'jwks.json'), JSON.stringify(keys.jwks));
    database = await createTestDatabase();
    nats = testNatsConfig();
    const config = loadConfig({
      services: ['widgets'],
      env: {
        TRELLIS_MODE: 'distributed',
        TRELLIS_AUTH_JWKS_FILE: join(dir, 'jwks.json'),
        TRELLIS_OPS_PORT: '0',
        TRELLIS_LOG_LEVEL: 'silent',
        TRELLIS_WIDGETS_DATABASE_URL: database.config.url,
        TRELLIS_NATS_URL: nats.servers,
        TRELLIS_NATS_STREAM: nats.stream,
        TRELLIS_NATS_SUBJECT_PREFIX: nats.subjectPrefix,
      },
    });
    runtime = await PlatformRuntime.create(config);
    service = await startService(widgetService, runtime);
  });

  afterAll(async () => {
    await service?.close();
    await runtime?.close();
    await nats?.cleanup();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('migrates its own PostgreSQL database and stores there', async () => {
    const client = createGrpcClient(WidgetService, service.grpcAddress, {
      token: await keys.mint({ sub: 'u1', bindings: [{ project: 'p1', role: 'editor' }] }),
    });
    const { widget } = await client.createWidget({ projectId: 'p1', name: 'pg-widget', size: 7n });
    client.close();

    const pg = new Client({ connectionString: database.config.url });
    await pg.connect();
    const { rows } = await pg.query('SELECT name, size FROM widgets WHERE id = $1', [widget!.id]);
    const { rows: migrations } = await pg.query('SELECT name FROM widgets_migrations ORDER BY id');
    await pg.end();
    expect(rows).toEqual([{ name: 'pg-widget', size: '7' }]);
    expect(migrations.map((m: { name: string }) => m.name)).toContain('CreateWidgets1764403200000');
  });

  it('delivers its events through JetStream to a durable consumer', async () => {
    const names: string[] = [];
    const subscription = await runtime.bus.subscribe({
      durable: 'dist-spec',
      subject: 'trellis.kittest.v1.widget.created',
      handler: async (envelope) => void names.push(fromBinary(WidgetCreatedSchema, envelope.payload).widget!.name),
    });
    const client = createGrpcClient(WidgetService, service.grpcAddress, {
      token: await keys.mint({ sub: 'u1', bindings: [{ project: 'p1', role: 'editor' }] }),
    });
    await client.createWidget({ projectId: 'p1', name: 'via-jetstream' });
    client.close();
    await eventually(() => expect(names).toContain('via-jetstream'));
    await subscription.stop();
  });
});

import { fromBinary } from '@bufbuild/protobuf';
import { createTestDatabase, eventually, testNatsConfig, testPostgresUrl, uniqueTestName, type TestDatabase, type TestNatsConfig } from '@trellis/testing';
import { Client } from 'pg';
import type { RunningService } from '../src';
import { TestPlatform } from '../src/testing';
import { WidgetCreatedSchema, WidgetService } from './gen/trellis/kittest/v1/widget_service_pb';
import { widgetService } from './widget/widget.service';

describe('a service in distributed mode (PostgreSQL, NATS JetStream)', () => {
  let database: TestDatabase<{ type: 'postgres'; url: string }>;
  let nats: TestNatsConfig;
  let platform: TestPlatform;
  let service: RunningService;

  beforeAll(async () => {
    database = await createTestDatabase();
    nats = testNatsConfig();
    platform = await TestPlatform.start({
      TRELLIS_MODE: 'distributed',
      TRELLIS_WIDGETS_DATABASE_URL: database.config.url,
      ...nats.env,
    });
    service = await platform.startService(widgetService);
  });

  afterAll(async () => {
    await platform?.stop();
    await nats?.cleanup();
    await database?.drop();
  });

  it('migrates its own PostgreSQL database and stores there', async () => {
    const client = await platform.client(WidgetService, service.grpcAddress, { sub: 'u1', bindings: [{ project: 'p1', role: 'editor' }] });
    const { widget } = await client.createWidget({ projectId: 'p1', name: 'pg-widget', size: 7n });

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
    const subscription = await platform.runtime.bus.subscribe({
      durable: 'dist-spec',
      subject: 'trellis.kittest.v1.widget.created',
      handler: async (envelope) => void names.push(fromBinary(WidgetCreatedSchema, envelope.payload).widget!.name),
    });
    const client = await platform.client(WidgetService, service.grpcAddress, { sub: 'u1', bindings: [{ project: 'p1', role: 'editor' }] });
    await client.createWidget({ projectId: 'p1', name: 'via-jetstream' });
    await eventually(() => expect(names).toContain('via-jetstream'));
    await subscription.stop();
  });
});

describe('a service whose PostgreSQL database does not exist yet', () => {
  it('creates its database at first start', async () => {
    const server = new URL(testPostgresUrl());
    const name = uniqueTestName('trellis_new');
    server.pathname = `/${name}`;
    const nats = testNatsConfig();
    const platform = await TestPlatform.start({
      TRELLIS_MODE: 'distributed',
      TRELLIS_WIDGETS_DATABASE_URL: server.toString(),
      ...nats.env,
    });
    try {
      const service = await platform.startService(widgetService);
      expect((await service.dataSource.query('SELECT current_database() AS name'))[0].name).toBe(name);
    } finally {
      await platform.stop();
      await nats.cleanup();
      const admin = new Client({ connectionString: testPostgresUrl() });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    }
  });
});

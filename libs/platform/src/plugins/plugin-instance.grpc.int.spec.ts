import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { definePlugin, type InstanceHealth, secret, z } from '@trellis/plugin-sdk';
import { MemoryKeyManager, MemoryObjectStore } from '@trellis/plugin-sdk/testing';
import { PluginInstanceServiceDesc, PluginInstanceSource, PluginKind } from '@trellis/proto';
import { createTestDatabase, testNatsConfig, type TestNatsConfig } from '@trellis/testing';
import { widgetService } from '../../test/widget/widget.service';
import type { GrpcCallError, GrpcClient } from '../grpc';
import type { RunningService } from '../service';
import { TestPlatform } from '../testing';

/** A storage plugin whose buckets answer health checks as `health` says, and refuse the bucket `missing`. */
let health: InstanceHealth = { ok: true };
const bucketPlugin = definePlugin({
  manifest: { kind: 'storage', id: 'storage-bucket', apiVersion: 'v1' },
  configSchema: z.object({ bucket: z.string().min(3), accessKey: secret().optional() }),
  create: (_ctx, config) => {
    if (config.bucket === 'missing') throw new Error('bucket "missing" does not exist');
    return Object.assign(new MemoryObjectStore(), { health: () => health });
  },
});
const memoryKms = definePlugin({ manifest: { kind: 'kms', id: 'kms-memory', apiVersion: 'v1' }, configSchema: z.object({}), create: () => new MemoryKeyManager() });

const widgetsWithStorage = { ...widgetService, plugins: { storage: { purpose: "keeps widgets' pictures" } } };

const databases = [
  { label: 'SQLite, standalone kit', distributed: false },
  { label: 'PostgreSQL and NATS JetStream, distributed kit', distributed: true },
];

describe.each(databases)('PluginInstanceService of a service ($label)', ({ distributed }) => {
  let platform: TestPlatform;
  let service: RunningService;
  let orgAdmin: GrpcClient<(typeof PluginInstanceServiceDesc)['method']>;
  let projectAdmin: GrpcClient<(typeof PluginInstanceServiceDesc)['method']>;
  let configDir: string;
  let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  let nats: TestNatsConfig | undefined;
  const failure = (call: Promise<unknown>) => call.then(() => undefined, (error: unknown) => error as GrpcCallError);

  beforeAll(async () => {
    configDir = mkdtempSync(join(tmpdir(), 'trellis-instances-spec-'));
    writeFileSync(join(configDir, 'trellis.yaml'), 'storage:\n  default:\n    plugin: storage-bucket\n    config:\n      bucket: main-bucket\nkms:\n  default:\n    plugin: kms-memory\n');
    let env: Record<string, string> = { TRELLIS_WIDGETS_PORT: '0', TRELLIS_CONFIG: join(configDir, 'trellis.yaml') };
    if (distributed) {
      database = await createTestDatabase();
      nats = testNatsConfig();
      env = { ...env, TRELLIS_MODE: 'distributed', TRELLIS_WIDGETS_DATABASE_URL: database.config.url, ...nats.env };
    }
    platform = await TestPlatform.start(env, { plugins: [bucketPlugin, memoryKms] });
    service = await platform.startService(widgetsWithStorage);
    orgAdmin = await platform.client(PluginInstanceServiceDesc, service.grpcAddress, { sub: 'root', orgAdmin: true, bindings: [] });
    projectAdmin = await platform.client(PluginInstanceServiceDesc, service.grpcAddress, { sub: 'ada', bindings: [{ project: 'p1', role: 'admin' }] });
  });

  afterAll(async () => {
    await platform?.stop();
    await nats?.cleanup();
    await database?.drop();
    rmSync(configDir, { recursive: true, force: true });
  });

  const storage = { service: 'widgets', kind: PluginKind.STORAGE };

  it('creates an instance with its secret wrapped, lists it from the database after the configured one, and reports its health', async () => {
    const { instance } = await orgAdmin.createPluginInstance({ ...storage, name: 'team-b', plugin: 'storage-bucket', config: { bucket: 'team-b-bucket', accessKey: 'hunter22' } });
    expect(instance).toMatchObject({ name: 'team-b', plugin: 'storage-bucket', source: PluginInstanceSource.API, creator: 'root', config: { bucket: 'team-b-bucket', accessKey: 'kms:(wrapped)' } });
    const listed = await projectAdmin.listPluginInstances({ ...storage, pageSize: 1 });
    expect(listed.instances.map((entry) => [entry.name, entry.source])).toEqual([['default', PluginInstanceSource.CONFIG]]);
    const next = await projectAdmin.listPluginInstances({ ...storage, pageSize: 1, pageToken: listed.nextPageToken });
    expect(next.instances.map((entry) => entry.name)).toEqual(['team-b']);
    expect(next.nextPageToken).toBe('');
    expect(JSON.stringify(next, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value))).not.toContain('hunter22');
    expect((await orgAdmin.getPluginInstance({ ...storage, name: 'team-b' })).instance).toMatchObject({ name: 'team-b', health: { ok: true, message: '' } });
  });

  it("refuses a bad config naming the field, a create() that throws with the plugin's message, and a configured name", async () => {
    const bad = await failure(orgAdmin.createPluginInstance({ ...storage, name: 'x', plugin: 'storage-bucket', config: { bucket: 'ab', bukket: 'typo' } }));
    expect([bad?.code, bad?.reason, bad?.violations.map((violation) => violation.field)]).toEqual([status.INVALID_ARGUMENT, 'PLUGIN_CONFIG_INVALID', ['config.bukket', 'config.bucket']]);
    const throws = await failure(orgAdmin.createPluginInstance({ ...storage, name: 'x', plugin: 'storage-bucket', config: { bucket: 'missing' } }));
    expect([throws?.code, throws?.reason]).toEqual([status.FAILED_PRECONDITION, 'PLUGIN_INSTANCE_FAILED']);
    expect(throws?.details).toContain('bucket "missing" does not exist');
    const wrongKind = await failure(orgAdmin.createPluginInstance({ ...storage, name: 'x', plugin: 'kms-memory', config: {} }));
    expect([wrongKind?.reason, wrongKind?.details]).toEqual(['PLUGIN_NOT_LOADED', expect.stringContaining('is a kms plugin, not a storage plugin')]);
    expect((await failure(orgAdmin.deletePluginInstance({ ...storage, name: 'default' })))?.reason).toBe('PLUGIN_INSTANCE_CONFIGURED');
    expect((await failure(orgAdmin.getPluginInstance({ service: 'tracking', kind: PluginKind.STORAGE, name: 'default' })))?.reason).toBe('PLUGIN_SERVICE_MISMATCH');
    expect((await failure(orgAdmin.getPluginInstance({ service: 'widgets', kind: PluginKind.COMPUTE, name: 'default' })))?.reason).toBe('PLUGIN_KIND_NOT_USED');
  });

  it("lets org admins manage instances and project admins choose their project's, checking its health", async () => {
    expect((await failure(projectAdmin.createPluginInstance({ ...storage, name: 'mine', plugin: 'storage-bucket', config: { bucket: 'mine-bucket' } })))?.reason).toBe('ORG_ADMIN_REQUIRED');
    await orgAdmin.createPluginInstance({ ...storage, name: 'team-c', plugin: 'storage-bucket', config: { bucket: 'team-c-bucket' } });
    expect((await projectAdmin.getProjectPluginInstance({ ...storage, projectId: 'p1' })).name).toBe('default');
    expect((await failure(projectAdmin.setProjectPluginInstance({ ...storage, projectId: 'p2', name: 'team-c' })))?.code).toBe(status.PERMISSION_DENIED);
    health = { ok: false, message: 'bucket team-c-bucket: access denied' };
    const unhealthy = await failure(projectAdmin.setProjectPluginInstance({ ...storage, projectId: 'p1', name: 'team-c' }));
    expect([unhealthy?.code, unhealthy?.reason, unhealthy?.details]).toEqual([status.FAILED_PRECONDITION, 'PLUGIN_INSTANCE_UNHEALTHY', expect.stringContaining('access denied')]);
    health = { ok: true };
    expect((await projectAdmin.setProjectPluginInstance({ ...storage, projectId: 'p1', name: 'team-c' })).name).toBe('team-c');
    expect((await projectAdmin.getProjectPluginInstance({ ...storage, projectId: 'p1' })).name).toBe('team-c');
    expect((await failure(orgAdmin.deletePluginInstance({ ...storage, name: 'team-c' })))?.reason).toBe('PLUGIN_INSTANCE_IN_USE');
  });

  it('shows every instance in /readyz by kind and name, degraded while one fails its health check', async () => {
    const readyz = async () => (await fetch(`${platform.opsAddress}/readyz`)).json() as Promise<{ status: string; checks: Array<{ name: string; degraded?: string }> }>;
    const names = (await readyz()).checks.map((check) => check.name);
    expect(names).toEqual(expect.arrayContaining(['plugin.storage.default', 'plugin.kms.default', 'widgets.plugin.storage.team-b']));
    health = { ok: false, message: 'bucket main-bucket: connection refused' };
    try {
      const report = await readyz();
      expect(report.status).toBe('degraded');
      expect(report.checks.find((check) => check.name === 'plugin.storage.default')?.degraded).toBe('storage instance "default" (plugin storage-bucket): bucket main-bucket: connection refused');
    } finally {
      health = { ok: true };
    }
  });
});

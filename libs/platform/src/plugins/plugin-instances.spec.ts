import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { definePlugin, type InstanceHealth, secret, z } from '@trellis/plugin-sdk';
import { MemoryKeyManager, MemoryObjectStore } from '@trellis/plugin-sdk/testing';
import type { DataSource } from 'typeorm';
import type { DomainError } from '../errors';
import { openDatabase } from '../persistence';
import { ConfiguredInstances, type InstanceSections } from './configured-instances';
import { WRAPPED_SECRET_MARKER } from './instance-secrets';
import { CreatePluginInstanceTables1767850000000 } from './plugin-instance-tables.migration';
import { PluginInstanceRepository } from './plugin-instance.repository';
import { PluginInstances } from './plugin-instances';
import { PluginRegistry } from './plugin-registry';

/** What each bucket instance was made with, and a switch that makes its backend fail. */
const made: Array<{ name: string; config: { bucket: string; accessKey?: string; region: string } }> = [];
let backendDown = false;
let healthOf: (bucket: string) => InstanceHealth = () => ({ ok: true });

class BucketStore extends MemoryObjectStore {
  constructor(private readonly bucket: string) {
    super();
  }
  override async put(...args: Parameters<MemoryObjectStore['put']>) {
    if (backendDown) throw new Error(`connect ECONNREFUSED bucket ${this.bucket}`);
    return super.put(...args);
  }
  health(): InstanceHealth {
    return healthOf(this.bucket);
  }
}

const bucketPlugin = definePlugin({
  manifest: { kind: 'storage', id: 'storage-bucket', apiVersion: 'v1' },
  configSchema: z.object({ bucket: z.string().min(3), accessKey: secret().optional(), region: z.string().default('eu') }),
  create: (ctx, config) => {
    if (config.bucket === 'missing') throw new Error('bucket "missing" does not exist (404 from the backend)');
    made.push({ name: ctx.instanceName, config });
    return new BucketStore(config.bucket);
  },
});

const memoryKms = definePlugin({
  manifest: { kind: 'kms', id: 'kms-memory', apiVersion: 'v1' },
  configSchema: z.object({}),
  create: () => new MemoryKeyManager(),
});

let dir: string;
let dataSource: DataSource;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plugin-instances-'));
});

beforeEach(async () => {
  made.length = 0;
  backendDown = false;
  healthOf = () => ({ ok: true });
  dataSource = await openDatabase({ service: 'widgets', database: { type: 'sqlite', path: ':memory:' }, migrations: [CreatePluginInstanceTables1767850000000] });
});

afterEach(async () => {
  await dataSource.destroy();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function storageOf(sections: InstanceSections = {}, options: { kms?: boolean } = {}) {
  const registry = new PluginRegistry({ dataDir: join(dir, 'plugins') });
  registry.register(bucketPlugin);
  if (options.kms) registry.register(memoryKms);
  const kmsSection = options.kms ? { kms: { default: { plugin: 'kms-memory', config: {} } } } : {};
  const configured = new ConfiguredInstances(registry, { dataDir: dir, sections: { ...kmsSection, ...sections } });
  const storage = new PluginInstances({ kind: 'storage', service: 'widgets', registry, configured, records: new PluginInstanceRepository(dataSource) });
  await storage.start();
  return { storage, registry, configured };
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (error: unknown) => error as DomainError,
  );

describe('PluginInstances', () => {
  it('creates every configured instance at start and hands them out by name', async () => {
    const { storage } = await storageOf({ storage: { 'team-a': { plugin: 'storage-bucket', config: { bucket: 'team-a-bucket' } } } });
    expect(made).toEqual([{ name: 'team-a', config: { bucket: 'team-a-bucket', region: 'eu' } }]);
    expect(storage.names()).toEqual(['team-a']);
    await (await storage.open('team-a')).put('k', Buffer.from('v'));
    const missing = await refusal(storage.open('team-b'));
    expect(missing.code).toBe(status.NOT_FOUND);
    expect(missing.reason).toBe('PLUGIN_INSTANCE_NOT_FOUND');
    expect(missing.message).toContain('its storage instances: team-a');
  });

  it('fails the start naming the config path for an unknown key, an unknown plugin, one of another kind, or a create() that throws', async () => {
    const failures = await Promise.all(
      [
        { plugin: 'storage-bucket', config: { bucket: 'abc', bukket: 'typo' } },
        { plugin: 'storage-s3', config: {} },
        { plugin: 'kms-memory', config: {} },
        { plugin: 'storage-bucket', config: { bucket: 'missing' } },
      ].map((spec) => refusal(storageOf({ storage: { 'team-a': spec } }, { kms: true }))),
    );
    expect(failures.map((error) => error.message)).toEqual([
      'storage.team-a: storage instance "team-a" (plugin storage-bucket) has an invalid config: bukket: unknown key; the plugin does not take it',
      'storage.team-a: storage instance "team-a" uses plugin "storage-s3", which is not loaded; loaded storage plugins: storage-bucket. Add its package to the plugin list.',
      'storage.team-a: storage instance "team-a" uses plugin "kms-memory", which is a kms plugin, not a storage plugin; loaded storage plugins: storage-bucket',
      'storage.team-a: storage instance "team-a" (plugin storage-bucket) failed to start: bucket "missing" does not exist (404 from the backend)',
    ]);
  });

  it('creates instances through the API, keeps them in the database, and makes them again at the next start', async () => {
    const first = await storageOf();
    const info = await first.storage.create({ name: 'team-b', plugin: 'storage-bucket', config: { bucket: 'team-b-bucket' } }, 'ada');
    expect(info).toMatchObject({ name: 'team-b', plugin: 'storage-bucket', source: 'api', config: { bucket: 'team-b-bucket' }, creator: 'ada' });
    expect((await refusal(first.storage.create({ name: 'team-b', plugin: 'storage-bucket', config: { bucket: 'other' } }, 'ada'))).reason).toBe('PLUGIN_INSTANCE_EXISTS');
    await first.registry.close();

    made.length = 0;
    const second = await storageOf();
    expect(made).toEqual([{ name: 'team-b', config: { bucket: 'team-b-bucket', region: 'eu' } }]);
    expect((await second.storage.list()).map((entry) => entry.name)).toEqual(['team-b']);
    await second.storage.delete('team-b');
    expect((await refusal(second.storage.open('team-b'))).code).toBe(status.NOT_FOUND);
  });

  it("refuses through the API a bad config (naming each field), a plugin it has not, a create() that throws, and a configured instance's name", async () => {
    const { storage } = await storageOf({ storage: { 'team-a': { plugin: 'storage-bucket', config: { bucket: 'team-a-bucket' } } } });
    const badConfig = await refusal(storage.create({ name: 'x', plugin: 'storage-bucket', config: { bucket: 'ab', extra: 1 } }, 'ada'));
    expect(badConfig.code).toBe(status.INVALID_ARGUMENT);
    expect(badConfig.reason).toBe('PLUGIN_CONFIG_INVALID');
    expect(badConfig.violations.map((violation) => violation.field)).toEqual(['config.extra', 'config.bucket']);
    const noPlugin = await refusal(storage.create({ name: 'x', plugin: 'storage-s3', config: {} }, 'ada'));
    expect([noPlugin.code, noPlugin.reason, noPlugin.violations[0]?.field]).toEqual([status.INVALID_ARGUMENT, 'PLUGIN_NOT_LOADED', 'plugin']);
    const throws = await refusal(storage.create({ name: 'x', plugin: 'storage-bucket', config: { bucket: 'missing' } }, 'ada'));
    expect([throws.code, throws.reason]).toEqual([status.FAILED_PRECONDITION, 'PLUGIN_INSTANCE_FAILED']);
    expect(throws.message).toContain('bucket "missing" does not exist (404 from the backend)');
    const configured = await refusal(storage.create({ name: 'team-a', plugin: 'storage-bucket', config: { bucket: 'abc' } }, 'ada'));
    expect([configured.code, configured.reason]).toEqual([status.FAILED_PRECONDITION, 'PLUGIN_INSTANCE_CONFIGURED']);
    expect((await refusal(storage.delete('team-a'))).reason).toBe('PLUGIN_INSTANCE_CONFIGURED');
    expect(await storage.list()).toHaveLength(1);
  });

  it("keeps each project's choice, default until it chooses, and refuses an instance that is not healthy", async () => {
    const { storage } = await storageOf({ storage: { default: { plugin: 'storage-bucket', config: { bucket: 'main' } } } });
    await storage.create({ name: 'team-b', plugin: 'storage-bucket', config: { bucket: 'team-b-bucket' } }, 'ada');
    expect(await storage.choiceFor('p1')).toBe('default');
    await storage.choose('p1', 'team-b');
    expect(await storage.choiceFor('p1')).toBe('team-b');
    expect(await storage.choiceFor('p2')).toBe('default');
    expect((await storage.forProject('p1')).name).toBe('team-b');

    healthOf = (bucket) => (bucket === 'main' ? { ok: false, message: 'bucket main: access denied' } : { ok: true });
    const unhealthy = await refusal(storage.choose('p1', 'default'));
    expect([unhealthy.code, unhealthy.reason]).toEqual([status.FAILED_PRECONDITION, 'PLUGIN_INSTANCE_UNHEALTHY']);
    expect(unhealthy.message).toContain('bucket main: access denied');
    expect(await storage.choiceFor('p1')).toBe('team-b');
    const inUse = await refusal(storage.delete('team-b'));
    expect([inUse.reason, inUse.message]).toEqual(['PLUGIN_INSTANCE_IN_USE', expect.stringContaining('projects p1')]);
  });

  it('answers a failing backend with UNAVAILABLE naming the instance, and lets contract errors through', async () => {
    const { storage } = await storageOf({ storage: { default: { plugin: 'storage-bucket', config: { bucket: 'main' } } } });
    const store = await storage.open('default');
    expect((await refusal(store.get('absent'))).code).toBe('OBJECT_NOT_FOUND');
    backendDown = true;
    const failed = await refusal(store.put('k', Buffer.from('v')));
    expect(failed.code).toBe(status.UNAVAILABLE);
    expect(failed.reason).toBe('PLUGIN_BACKEND_FAILED');
    expect(failed.message).toBe('storage instance "default" (plugin storage-bucket) failed: connect ECONNREFUSED bucket main');
    expect(failed.errorDetails.metadata).toEqual({ kind: 'storage', instance: 'default', plugin: 'storage-bucket' });
  });

  describe('secrets', () => {
    const saved = process.env.TRELLIS_TEST_ACCESS_KEY;
    afterEach(() => {
      if (saved === undefined) delete process.env.TRELLIS_TEST_ACCESS_KEY;
      else process.env.TRELLIS_TEST_ACCESS_KEY = saved;
    });

    it('resolves env: and file: references just before create(), and shows only the references', async () => {
      process.env.TRELLIS_TEST_ACCESS_KEY = 'from-the-environment';
      const keyFile = join(dir, 'access-key');
      await writeFile(keyFile, 'from-a-file\n');
      const { storage } = await storageOf({
        storage: {
          env: { plugin: 'storage-bucket', config: { bucket: 'env-bucket', accessKey: 'env:TRELLIS_TEST_ACCESS_KEY' } },
          file: { plugin: 'storage-bucket', config: { bucket: 'file-bucket', accessKey: `file:${keyFile}` } },
        },
      });
      expect(made.map((entry) => entry.config.accessKey)).toEqual(['from-the-environment', 'from-a-file']);
      expect((await storage.list()).map((entry) => entry.config)).toEqual([
        { bucket: 'env-bucket', accessKey: 'env:TRELLIS_TEST_ACCESS_KEY' },
        { bucket: 'file-bucket', accessKey: `file:${keyFile}` },
      ]);
    });

    it('refuses a plain secret in the config file, and a reference that cannot be read, naming the field', async () => {
      delete process.env.TRELLIS_TEST_ACCESS_KEY;
      const plain = await refusal(storageOf({ storage: { a: { plugin: 'storage-bucket', config: { bucket: 'abc', accessKey: 'hunter22' } } } }));
      expect(plain.message).toBe(
        'storage.a: storage instance "a" (plugin storage-bucket) has an invalid config: accessKey: is a secret: write a reference, env:NAME or file:/path, not the value',
      );
      expect(plain.message).not.toContain('hunter22');
      const unset = await refusal(storageOf({ storage: { a: { plugin: 'storage-bucket', config: { bucket: 'abc', accessKey: 'env:TRELLIS_TEST_ACCESS_KEY' } } } }));
      expect(unset.message).toContain('accessKey: env:TRELLIS_TEST_ACCESS_KEY: the environment variable TRELLIS_TEST_ACCESS_KEY is not set');
    });

    it('wraps a plain secret given through the API with the KMS, never shows it, and unwraps it for create()', async () => {
      const first = await storageOf({}, { kms: true });
      const info = await first.storage.create({ name: 'team-b', plugin: 'storage-bucket', config: { bucket: 'team-b-bucket', accessKey: 'hunter22' } }, 'ada');
      expect(info.config).toEqual({ bucket: 'team-b-bucket', accessKey: WRAPPED_SECRET_MARKER });
      expect(made[0].config.accessKey).toBe('hunter22');
      const [row] = (await dataSource.query('SELECT config FROM trellis_plugin_instances')) as Array<{ config: string }>;
      expect(row.config).not.toContain('hunter22');
      expect(JSON.stringify(await first.storage.list())).not.toContain('hunter22');
    });

    it('refuses a plain secret through the API when the service has no KMS, naming the field', async () => {
      const { storage } = await storageOf();
      const refused = await refusal(storage.create({ name: 'team-b', plugin: 'storage-bucket', config: { bucket: 'abc', accessKey: 'hunter22' } }, 'ada'));
      expect([refused.code, refused.reason]).toEqual([status.FAILED_PRECONDITION, 'PLUGIN_SECRET_UNWRAPPABLE']);
      expect(refused.message).toContain('accessKey: is a secret and this service has no KMS instance to wrap it');
      expect(refused.message).not.toContain('hunter22');
    });
  });
});

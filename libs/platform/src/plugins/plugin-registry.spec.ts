import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Alert, definePlugin, type Notifier, type PluginContext, PluginConfigError, type PluginLogger } from '@trellis/plugin-sdk';
import { type InstanceRef, PluginRegistry } from './plugin-registry';
import { z } from 'zod';

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'plugin-registry-'));
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const alert: Alert = { id: 'a1', status: 'firing', severity: 'warning', title: 'drift on churn', source: 'test', labels: {}, at: new Date(0) };

/** A notifier that records what it gets, so specs can look at the context and config it was made with. */
function recordingNotifier(id = 'notifier-recording') {
  const made: { ctx: PluginContext; config: { url: string; retries: number; channels: { name: string; url: string }[] } }[] = [];
  const closed: string[] = [];
  const plugin = definePlugin({
    manifest: { kind: 'notifier', id, apiVersion: 'v1' },
    configSchema: z.object({
      url: z.url(),
      retries: z.number().int().min(0).default(3),
      channels: z.array(z.object({ name: z.string(), url: z.url() })).default([]),
    }),
    create(ctx, config): Notifier {
      made.push({ ctx, config });
      return {
        deliver: async () => undefined,
        close: () => {
          closed.push(ctx.instanceName);
        },
      };
    },
  });
  return { plugin, made, closed };
}

function registryWith(...plugins: ReturnType<typeof recordingNotifier>['plugin'][]): PluginRegistry {
  const registry = new PluginRegistry({ dataDir });
  for (const plugin of plugins) registry.register(plugin);
  return registry;
}

describe('PluginRegistry.createInstance', () => {
  it('creates an instance with the parsed config and a context of its own', async () => {
    const { plugin, made } = recordingNotifier();
    const logged: [InstanceRef, object, string | undefined][] = [];
    const registry = new PluginRegistry({
      dataDir,
      loggerFor: (ref): PluginLogger => {
        const log = (obj: object, msg?: string) => logged.push([ref, obj, msg]);
        return { debug: log, info: log, warn: log, error: log };
      },
    });
    registry.register(plugin);

    const notifier = await registry.createInstance('notifier', { name: 'ops', plugin: 'notifier-recording', config: { url: 'https://hooks.example.com/x' } });
    await notifier.deliver(alert);

    const [{ ctx, config }] = made;
    expect(config).toEqual({ url: 'https://hooks.example.com/x', retries: 3, channels: [] });
    expect(ctx.instanceName).toBe('ops');
    expect(ctx.dataDir).toBe(join(dataDir, 'notifier', 'ops'));
    expect((await stat(ctx.dataDir)).isDirectory()).toBe(true);
    expect(ctx.signal.aborted).toBe(false);
    ctx.logger.info({ sent: 1 }, 'delivered');
    expect(logged).toEqual([[{ kind: 'notifier', plugin: 'notifier-recording', name: 'ops' }, { sent: 1 }, 'delivered']]);
    expect(registry.getInstance('notifier', 'ops')).toBe(notifier);
  });

  it('refuses an invalid config, naming the instance, the plugin and every failing path', async () => {
    const registry = registryWith(recordingNotifier().plugin);
    const failure = registry.createInstance('notifier', {
      name: 'ops',
      plugin: 'notifier-recording',
      config: { url: 'not a url', retries: -1, channels: [{ name: 'a', url: 'https://a.example.com' }, { name: 'b' }] },
    });
    await expect(failure).rejects.toBeInstanceOf(PluginConfigError);
    await expect(failure).rejects.toMatchObject({
      instance: 'ops',
      plugin: 'notifier-recording',
      issues: [
        { path: 'url', message: 'Invalid URL' },
        { path: 'retries', message: 'Too small: expected number to be >=0' },
        { path: 'channels[1].url', message: 'Invalid input: expected string, received undefined' },
      ],
    });
    await expect(failure).rejects.toThrow(
      'notifier instance "ops" (plugin notifier-recording) has an invalid config: url: Invalid URL; retries: Too small: expected number to be >=0; channels[1].url: Invalid input: expected string, received undefined',
    );
    expect(registry.instanceNames('notifier')).toEqual([]);
  });

  it('refuses a plugin id that is not loaded, listing the loaded ones', async () => {
    const registry = registryWith(recordingNotifier().plugin, recordingNotifier('notifier-other').plugin);
    await expect(registry.createInstance('notifier', { name: 'ops', plugin: 'notifier-slack', config: {} })).rejects.toThrow(
      'notifier instance "ops" uses plugin "notifier-slack", which is not loaded; loaded notifier plugins: notifier-recording, notifier-other. Add its package to the plugin list.',
    );
    await expect(registry.createInstance('storage', { name: 'ops', plugin: 'notifier-recording', config: {} })).rejects.toThrow(
      'loaded storage plugins: none',
    );
  });

  it('keeps instance names unique per kind', async () => {
    const registry = registryWith(recordingNotifier().plugin);
    const spec = { name: 'ops', plugin: 'notifier-recording', config: { url: 'https://x.example.com' } };
    await registry.createInstance('notifier', spec);
    await expect(registry.createInstance('notifier', spec)).rejects.toMatchObject({
      code: 'PLUGIN_INSTANCE',
      message: 'a notifier instance named "ops" already exists (plugin notifier-recording); instance names are unique per kind',
    });
  });

  it('refuses a second instance of a name while the first is still being created', async () => {
    let finish!: () => void;
    let createCalled!: () => void;
    const creating = new Promise<void>((resolve) => (createCalled = resolve));
    const slow = definePlugin({
      manifest: { kind: 'notifier', id: 'notifier-slow', apiVersion: 'v1' },
      configSchema: z.object({}),
      create: () =>
        new Promise<Notifier>((resolve) => {
          finish = () => resolve({ deliver: async () => undefined });
          createCalled();
        }),
    });
    const registry = new PluginRegistry({ dataDir });
    registry.register(slow);
    const first = registry.createInstance('notifier', { name: 'ops', plugin: 'notifier-slow', config: {} });
    await creating;
    await expect(registry.createInstance('notifier', { name: 'ops', plugin: 'notifier-slow', config: {} })).rejects.toThrow('(being created)');
    finish();
    await expect(first).resolves.toBeDefined();
  });

  it.each(['../escape', 'Upper', '', 'a/b', '-leading', 'x'.repeat(65)])('refuses the instance name %j', async (name) => {
    const registry = registryWith(recordingNotifier().plugin);
    await expect(registry.createInstance('notifier', { name, plugin: 'notifier-recording', config: { url: 'https://x.example.com' } })).rejects.toThrow(
      /instance name .* is not allowed; use lowercase letters, digits/,
    );
  });

  it('reports a create() that throws, naming the instance, and frees the name', async () => {
    let attempts = 0;
    const flaky = definePlugin({
      manifest: { kind: 'notifier', id: 'notifier-flaky', apiVersion: 'v1' },
      configSchema: z.object({}),
      create: (): Notifier => {
        if (attempts++ === 0) throw new Error('webhook host unreachable');
        return { deliver: async () => undefined };
      },
    });
    const registry = new PluginRegistry({ dataDir });
    registry.register(flaky);
    const spec = { name: 'ops', plugin: 'notifier-flaky', config: {} };
    const failure = registry.createInstance('notifier', spec);
    await expect(failure).rejects.toThrow('notifier instance "ops" (plugin notifier-flaky) failed to start: webhook host unreachable');
    await expect(failure).rejects.toHaveProperty('cause.message', 'webhook host unreachable');
    await expect(registry.createInstance('notifier', spec)).resolves.toBeDefined();
  });

  it('refuses an instance that lacks members of its contract, naming them', async () => {
    const incomplete = {
      manifest: { kind: 'storage', id: 'storage-partial', apiVersion: 'v1' },
      configSchema: z.object({}),
      create: () => ({ put: async () => undefined, get: async () => undefined }),
    } as unknown as ReturnType<typeof recordingNotifier>['plugin'];
    const registry = new PluginRegistry({ dataDir });
    registry.register(incomplete);
    await expect(registry.createInstance('storage', { name: 'partial', plugin: 'storage-partial', config: {} })).rejects.toThrow(
      'storage instance "partial": plugin storage-partial returned an object without head, list, delete, createMultipartUpload, uploadPart, completeMultipartUpload, abortMultipartUpload from create(); it does not fulfil the storage contract',
    );
  });
});

describe('PluginRegistry instances', () => {
  it('names the instances there are when one is missing', async () => {
    const registry = registryWith(recordingNotifier().plugin);
    await registry.createInstance('notifier', { name: 'ops', plugin: 'notifier-recording', config: { url: 'https://x.example.com' } });
    expect(() => registry.getInstance('notifier', 'dev')).toThrow('no notifier instance named "dev"; notifier instances: ops');
  });

  it('closes every instance on close(), aborting their signals, and then refuses new ones', async () => {
    const { plugin, made, closed } = recordingNotifier();
    const registry = registryWith(plugin);
    for (const name of ['a', 'b']) await registry.createInstance('notifier', { name, plugin: 'notifier-recording', config: { url: 'https://x.example.com' } });
    await registry.close();
    expect(closed).toEqual(['b', 'a']);
    expect(made.map((m) => m.ctx.signal.aborted)).toEqual([true, true]);
    expect(registry.instanceNames('notifier')).toEqual([]);
    await expect(registry.createInstance('notifier', { name: 'c', plugin: 'notifier-recording', config: {} })).rejects.toThrow('the plugin registry is closed');
  });

  it('closes the others when one close() fails, then reports the failure', async () => {
    const failing = definePlugin({
      manifest: { kind: 'kms', id: 'kms-failing', apiVersion: 'v1' },
      configSchema: z.object({}),
      create: () => ({
        generateDataKey: async () => ({ keyId: 'k', plaintext: new Uint8Array(), wrapped: new Uint8Array() }),
        wrapKey: async () => new Uint8Array(),
        unwrapKey: async () => new Uint8Array(),
        close: async () => {
          throw new Error('vault token revoked');
        },
      }),
    });
    const { plugin, closed } = recordingNotifier();
    const registry = registryWith(plugin);
    registry.register(failing);
    await registry.createInstance('notifier', { name: 'ops', plugin: 'notifier-recording', config: { url: 'https://x.example.com' } });
    await registry.createInstance('kms', { name: 'keys', plugin: 'kms-failing', config: {} });
    const failure = registry.close();
    await expect(failure).rejects.toBeInstanceOf(AggregateError);
    await expect(failure).rejects.toHaveProperty(['errors', 0, 'message'], 'vault token revoked');
    expect(closed).toEqual(['ops']);
  });

  it('lets the same name be used in two kinds', async () => {
    const registry = registryWith(recordingNotifier().plugin);
    registry.register(
      definePlugin({
        manifest: { kind: 'kms', id: 'kms-null', apiVersion: 'v1' },
        configSchema: z.object({}),
        create: () => ({
          generateDataKey: async () => ({ keyId: 'k', plaintext: new Uint8Array(), wrapped: new Uint8Array() }),
          wrapKey: async () => new Uint8Array(),
          unwrapKey: async () => new Uint8Array(),
        }),
      }),
    );
    const notifier = await registry.createInstance('notifier', { name: 'default', plugin: 'notifier-recording', config: { url: 'https://x.example.com' } });
    const kms = await registry.createInstance('kms', { name: 'default', plugin: 'kms-null', config: {} });
    expect(registry.getInstance('notifier', 'default')).toBe(notifier);
    expect(registry.getInstance('kms', 'default')).toBe(kms);
  });
});

describe('PluginRegistry.register', () => {
  it('refuses a second plugin with the same kind and id, naming where both came from', () => {
    const registry = new PluginRegistry();
    registry.register(recordingNotifier().plugin, '@acme/trellis-notifier');
    expect(() => registry.register(recordingNotifier().plugin, '@other/trellis-notifier')).toThrow(
      'cannot load plugin package @other/trellis-notifier: notifier plugin id "notifier-recording" is already loaded: both @acme/trellis-notifier and @other/trellis-notifier provide it; list only one of them',
    );
  });

  it('refuses an object that is not a plugin', () => {
    expect(() => new PluginRegistry().register({ manifest: {} } as never, 'in-code')).toThrow('cannot load plugin package in-code: it is not a plugin');
  });
});

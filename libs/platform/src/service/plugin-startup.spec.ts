import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type Alert, definePlugin, z } from '@trellis/plugin-sdk';
import { MemoryObjectStore } from '@trellis/plugin-sdk/testing';
import pino from 'pino';
import { widgetService } from '../../test/widget/widget.service';
import { loadConfig } from '../config';
import { defineService } from './define-service';
import { PlatformRuntime } from './platform-runtime';
import { readableFailure, runProcess } from './run-process';
import { warnUnusedPluginKinds } from './service-plugins';
import { StartupError } from './startup-error';

/** A storage plugin whose create() reaches its "bucket" and fails when it is not there, as an S3 plugin would. */
const bucketStorage = definePlugin({
  manifest: { kind: 'storage', id: 'storage-bucket', apiVersion: 'v1' },
  configSchema: z.object({ bucket: z.string() }).strict(),
  create: (_ctx, config) => {
    if (config.bucket !== 'exists') throw new Error(`bucket "${config.bucket}" does not exist (NoSuchBucket)`);
    return new MemoryObjectStore();
  },
});
const webhook = definePlugin({
  manifest: { kind: 'notifier', id: 'notifier-webhook', apiVersion: 'v1' },
  configSchema: z.object({ url: z.string() }),
  create: () => ({ deliver: async (_alert: Alert) => undefined }),
});
const widgets = defineService({ ...widgetService, plugins: { storage: { purpose: "keeps widgets' pictures" } } });

const saved = { ...process.env };
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'trellis-plugin-startup-'));
  Object.assign(process.env, { TRELLIS_DATA_DIR: dir, TRELLIS_OPS_PORT: '0', TRELLIS_WIDGETS_PORT: '0', TRELLIS_LOG_LEVEL: 'silent', TRELLIS_CONFIG: join(dir, 'trellis.yaml') });
});

afterEach(() => {
  process.env = { ...saved };
  rmSync(dir, { recursive: true, force: true });
});

const startWith = async (yaml: string) => {
  writeFileSync(join(dir, 'trellis.yaml'), yaml);
  const printed: string[] = [];
  const error = await runProcess({ mode: 'standalone', services: [widgets], plugins: [bucketStorage], print: (line) => printed.push(line) }).then(
    async (running) => {
      await running.stop();
      return undefined;
    },
    (thrown: unknown) => thrown,
  );
  return { error, printed };
};

describe('a process whose configured plugin instance is broken does not start', () => {
  it("stops with the plugin's message, naming the config path, when create() throws; nothing listens", async () => {
    const { error, printed } = await startWith('storage:\n  default:\n    plugin: storage-bucket\n    config:\n      bucket: exists\n  team-a:\n    plugin: storage-bucket\n    config:\n      bucket: team-a\n');
    expect(error).toBeInstanceOf(StartupError);
    expect(readableFailure(error)).toBe('storage.team-a: storage instance "team-a" (plugin storage-bucket) failed to start: bucket "team-a" does not exist (NoSuchBucket)');
    expect(printed).toEqual([]);
  });

  it('stops for an unknown key in its config, and for a plugin of another kind', async () => {
    const typo = await startWith('storage:\n  default:\n    plugin: storage-bucket\n    config:\n      bucket: exists\n      buckt: typo\n');
    expect(readableFailure(typo.error)).toBe('storage.default: storage instance "default" (plugin storage-bucket) has an invalid config: buckt: unknown key; the plugin does not take it');
    const other = await startWith('storage:\n  default:\n    plugin: kms-local\n');
    expect(readableFailure(other.error)).toContain('storage.default: storage instance "default" uses plugin "kms-local", which is not loaded');
  });

  it('starts when every instance can be made', async () => {
    const { error, printed } = await startWith('storage:\n  default:\n    plugin: storage-bucket\n    config:\n      bucket: exists\n');
    expect(error).toBeUndefined();
    expect(printed[0]).toBe('Trellis (standalone) is running.');
  });
});

describe('plugins of a kind no service of the process uses', () => {
  it('are loaded, and they and their config section are named in a warning', async () => {
    writeFileSync(join(dir, 'trellis.yaml'), 'notifier:\n  ops:\n    plugin: notifier-webhook\n    config:\n      url: https://hooks.example.com/x\n');
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino(
      { level: 'warn' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
          done();
        },
      }),
    );
    const runtime = await PlatformRuntime.create(loadConfig({ services: ['widgets'] }), { logger, plugins: [bucketStorage, webhook] });
    try {
      warnUnusedPluginKinds([widgets], runtime);
      expect(runtime.plugins.plugin('notifier', 'notifier-webhook')).toBeDefined();
      expect(lines.map((line) => line.msg)).toEqual([
        'plugins notifier-webhook are notifier plugins, and no service of this process uses notifier plugins; they stay unused',
        'the config declares notifier instances ops, and no service of this process uses notifier plugins; they are not created',
      ]);
    } finally {
      await runtime.close();
    }
  });
});

import { definePlugin } from '@trellis/plugin-sdk';
import { MemoryObjectStore } from '@trellis/plugin-sdk/testing';
import { eventually } from '@trellis/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { z } from 'zod';
import { ConfigError, loadConfig } from '../config';
import { ProcessedEventEntity } from '../persistence/processed-event.entity';
import { seenWidgets } from '../events/test-fixtures/widget-events';
import { defineService } from './define-service';
import { PlatformRuntime } from './platform-runtime';
import { startService } from './start-service';
import { StartupError } from './startup-error';
import { activity, kitV2WidgetService, SettingsProbe, widgetCreatedEnvelope } from './test-fixtures/kit-v2-widgets';

const memoryStorage = definePlugin({
  manifest: { kind: 'storage', id: 'storage-memory', apiVersion: 'v1' },
  configSchema: z.object({}),
  create: () => new MemoryObjectStore(),
});

/** A standalone process running one service on `dir`, its log lines kept. */
async function start(dir: string, env: Record<string, string> = {}, definition = kitV2WidgetService, plugins = [memoryStorage]) {
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => done(void logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>)) });
  const config = loadConfig({ services: [definition.name], env: { TRELLIS_DATA_DIR: dir, TRELLIS_OPS_PORT: '0', TRELLIS_WIDGETS_PORT: '0', TRELLIS_AUTH_JWKS_URL: 'http://127.0.0.1:1/jwks', ...env } });
  const runtime = await PlatformRuntime.create(config, { logger: pino({ level: 'info' }, sink), plugins });
  try {
    const service = await startService(definition, runtime);
    return { runtime, service, logs, stop: async () => (await service.close(), await runtime.close()) };
  } catch (error) {
    await runtime.close();
    throw error;
  }
}

describe('a service declared with defineService', () => {
  let dir: string;
  let running: Awaited<ReturnType<typeof start>> | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'trellis-definition-'));
    activity.reset();
  });

  afterEach(async () => {
    await running?.stop();
    running = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  describe('config section', () => {
    it('gives the service its own settings, from the file and from TRELLIS_<SERVICE>_<KEY>, with defaults', async () => {
      writeFileSync(join(dir, 'trellis.yaml'), 'services:\n  widgets:\n    greeting: hi from the file\n    replica: file\n');
      running = await start(dir, { TRELLIS_CONFIG: join(dir, 'trellis.yaml'), TRELLIS_WIDGETS_REPLICA: 'env' });
      expect(running.service.app.get(SettingsProbe, { strict: false }).config).toEqual({ replica: 'env', greeting: 'hi from the file', failFirstRuns: 0 });
    });

    it('refuses a bad value at start, naming the key and its variable', async () => {
      const error = await start(dir, { TRELLIS_WIDGETS_FAIL_FIRST_RUNS: '-1' }).catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toBe(
        'invalid Trellis configuration:\n  services.widgets.failFirstRuns (TRELLIS_WIDGETS_FAIL_FIRST_RUNS): Too small: expected number to be >=0',
      );
    });

    it('refuses a key the service does not declare, so a typo does not pass silently', async () => {
      writeFileSync(join(dir, 'trellis.yaml'), 'services:\n  widgets:\n    greting: hi\n');
      const error = await start(dir, { TRELLIS_CONFIG: join(dir, 'trellis.yaml') }).catch((thrown: unknown) => thrown);
      expect((error as Error).message).toBe('invalid Trellis configuration:\n  services.widgets.greting (TRELLIS_WIDGETS_GRETING): not a setting of widgets');
    });
  });

  describe('subscriptions', () => {
    it('acts on each event once through the inbox, even when it comes again after a restart', async () => {
      const envelope = widgetCreatedEnvelope('w-1');
      const first = await start(dir);
      await first.runtime.bus.publish(envelope);
      expect(await seenWidgets(first.service.dataSource)).toEqual(['w-1']);
      expect(await first.service.dataSource.getRepository(ProcessedEventEntity).findBy({ eventId: envelope.id })).toEqual([
        expect.objectContaining({ consumer: 'widgets-widget-seen-handler' }),
      ]);
      await first.stop();

      running = await start(dir);
      await running.runtime.bus.publish(envelope);
      expect(await seenWidgets(running.service.dataSource)).toEqual(['w-1']);
      expect(activity.handled).toBe(1);
    });

    it('refuses two subscriptions under one durable name, which would share their events', () => {
      const [seen] = kitV2WidgetService.subscriptions ?? [];
      expect(() => defineService({ ...kitV2WidgetService, subscriptions: [seen, { ...seen, subject: 'trellis.kittest.v1.widget.deleted' }] })).toThrow(
        'widgets subscribes twice as widgets-widget-seen-handler: give one of them a durable name of its own',
      );
    });

    it('stops receiving when the service closes', async () => {
      const { runtime, service } = await start(dir);
      await service.close();
      await runtime.bus.publish(widgetCreatedEnvelope('w-2'));
      await runtime.close();
      expect(activity.handled).toBe(0);
    });
  });

  describe('workers', () => {
    it('runs each worker once started, and stops it before its database closes', async () => {
      const { stop } = await start(dir);
      await eventually(() => expect([...activity.running]).toEqual(['only']));
      await stop();
      expect(activity.running.size).toBe(0);
      expect(activity.stops).toEqual(['only: database open']);
    });

    it('logs a worker that throws and runs it again after a pause, without stopping the process', async () => {
      running = await start(dir, { TRELLIS_WIDGETS_FAIL_FIRST_RUNS: '2' });
      const { logs } = running;
      await eventually(() => expect([...activity.running]).toEqual(['only']));
      expect(activity.runs).toEqual(['only', 'only', 'only']);
      const failures = logs.filter((line) => line.msg === 'worker failed; running it again after a pause');
      expect(failures.map((line) => [line.worker, (line.err as { message: string }).message, line.restartInMs])).toEqual([
        ['widgets:WidgetWorker', 'widget worker of only failed on purpose', 500],
        ['widgets:WidgetWorker', 'widget worker of only failed on purpose', 1000],
      ]);
    });
  });

  describe('plugin kinds', () => {
    it('refuses to start without a plugin of a kind it needs, naming the kind, its use and the setting', async () => {
      const needsStorage = defineService({ ...kitV2WidgetService, plugins: { storage: { purpose: 'keeps widget blueprints' } } });
      const error = await start(dir, {}, needsStorage, []).catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(StartupError);
      expect((error as Error).message).toBe(
        'widgets needs a storage plugin (keeps widget blueprints), and this program has none: add the package of one to plugins (TRELLIS_PLUGINS)',
      );
    });

    it('starts without a plugin of a kind it uses optionally, and with one of a kind it needs', async () => {
      const optional = defineService({ ...kitV2WidgetService, plugins: { kms: { purpose: 'signs widgets', optional: true }, storage: { purpose: 'keeps widget blueprints' } } });
      running = await start(dir, {}, optional, [memoryStorage]);
      expect(running.service.grpcAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    });
  });
});

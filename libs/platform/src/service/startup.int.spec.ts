import { Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { closedPort, createTestDatabase, occupiedPort, testPostgresUrl } from '@trellis/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { widgetService } from '../../test/widget/widget.service';
import { ConfigError, loadConfig } from '../config';
import { AfterStart } from './after-start';
import { defineService } from './define-service';
import { PlatformRuntime } from './platform-runtime';
import { readableFailure, runProcess, type EdgeDefinition } from './run-process';
import { startService } from './start-service';
import { StartupError } from './startup-error';

const quiet = { print: () => undefined };
const saved = { ...process.env };
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'trellis-startup-'));
  Object.assign(process.env, { TRELLIS_DATA_DIR: dir, TRELLIS_OPS_PORT: '0', TRELLIS_WIDGETS_PORT: '0', TRELLIS_LOG_LEVEL: 'silent' });
});

afterEach(() => {
  process.env = { ...saved };
  rmSync(dir, { recursive: true, force: true });
});

describe('a process that cannot start says why, naming the setting, without a stack trace', () => {
  it('names opsPort when the ops port is in use, as when a second process on a host keeps the default', async () => {
    const { port, release } = await occupiedPort();
    process.env.TRELLIS_OPS_PORT = String(port);
    const error = await runProcess({ mode: 'standalone', services: [widgetService], ...quiet }).catch((thrown: unknown) => thrown);
    await release();
    expect(error).toBeInstanceOf(StartupError);
    expect(readableFailure(error)).toBe(
      `the ops endpoints (/healthz /readyz /metrics) cannot listen on 127.0.0.1:${port}: ` +
        'the port is in use (another Trellis process, or another program); choose another with opsPort (TRELLIS_OPS_PORT; each process on a host needs its own)',
    );
  });

  it("names the service's port setting when its gRPC port is in use", async () => {
    const { port, release } = await occupiedPort();
    process.env.TRELLIS_WIDGETS_PORT = String(port);
    const error = await runProcess({ mode: 'standalone', services: [widgetService], ...quiet }).catch((thrown: unknown) => thrown);
    await release();
    expect(readableFailure(error)).toBe(
      `the widgets gRPC server cannot listen on 127.0.0.1:${port}: ` +
        'the port is in use (another Trellis process, or another program); choose another with services.widgets.port (TRELLIS_WIDGETS_PORT)',
    );
  });

  it('names TRELLIS_NATS_URL and the address tried when NATS cannot be reached', async () => {
    const port = await closedPort();
    Object.assign(process.env, { TRELLIS_MODE: 'distributed', TRELLIS_NATS_URL: `nats://127.0.0.1:${port}`, TRELLIS_AUTH_JWKS_URL: 'http://127.0.0.1:1/jwks' });
    const error = await runProcess({ mode: 'distributed', services: [widgetService], ...quiet }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(StartupError);
    expect((error as Error).message).toMatch(
      new RegExp(`^cannot reach NATS at nats://127\\.0\\.0\\.1:${port}: .+; check that it runs there, or set nats\\.url \\(TRELLIS_NATS_URL\\) to where it does$`),
    );
  });

  it('names the database setting and the server tried, never its password, when PostgreSQL cannot be reached', async () => {
    const port = await closedPort();
    Object.assign(process.env, { TRELLIS_MODE: 'distributed', TRELLIS_DATABASE_URL: `postgres://trellis:s3cret@127.0.0.1:${port}/postgres` });
    const runtime = await PlatformRuntime.create(loadConfig({ services: ['widgets'] }), { withoutBroker: true });
    const error = await startService(widgetService, runtime).catch((thrown: unknown) => thrown);
    await runtime.close();
    expect(error).toBeInstanceOf(StartupError);
    const message = (error as Error).message;
    expect(message).toMatch(
      new RegExp(`^cannot reach PostgreSQL at postgres://127\\.0\\.0\\.1:${port}/trellis_widgets: .+; check that it runs there, or set databaseUrl \\(TRELLIS_DATABASE_URL\\) to where it does$`),
    );
    expect(message).not.toContain('s3cret');
  });

  it("refuses a service whose dependencies have no address in distributed mode, naming each setting", async () => {
    const caller = defineService({ ...widgetService, name: 'caller', calls: ['tracking', 'governance'] });
    Object.assign(process.env, { TRELLIS_MODE: 'distributed', TRELLIS_AUTH_JWKS_URL: 'http://127.0.0.1:1/jwks', TRELLIS_TRACKING_ADDRESS: '127.0.0.1:50053' });
    const error = await runProcess({ mode: 'distributed', services: [caller], ...quiet }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      'caller calls governance, which this process does not run: set services.governance.address (TRELLIS_GOVERNANCE_ADDRESS) to host:port of their gRPC servers',
    );
  });

  it('prints the message of a plugin that cannot be loaded, naming the package', async () => {
    process.env.TRELLIS_PLUGINS = '@trellis/plugin-storage-nowhere';
    const error = await runProcess({ mode: 'standalone', services: [widgetService], ...quiet }).catch((thrown: unknown) => thrown);
    expect(readableFailure(error)).toBe((error as Error).message);
    expect(readableFailure(error)).toContain('@trellis/plugin-storage-nowhere');
  });

  it('prints the stack of an unexpected failure, which no setting explains', () => {
    const error = new TypeError('x is undefined');
    expect(readableFailure(error)).toBe(error.stack);
  });
});

describe('a process that starts', () => {
  /** A service that defers a notice until its process is up, recording whether the work ran. */
  function noticingService() {
    const ran: string[] = [];
    @Injectable()
    class Noticer implements OnModuleInit {
      constructor(private readonly afterStart: AfterStart) {}
      onModuleInit() {
        return this.afterStart.add(async () => {
          ran.push('hook');
          return 'Your key: k-123\n';
        });
      }
    }
    @Module({ imports: [widgetService.module], providers: [Noticer] })
    class NoticingModule {}
    return { service: defineService({ ...widgetService, module: NoticingModule }), ran };
  }

  it('prints its summary once everything listens, the data directory as an absolute path, and deferred notices last', async () => {
    const { service, ran } = noticingService();
    const printed: string[] = [];
    const running = await runProcess({ mode: 'standalone', services: [service], print: (line) => printed.push(line) });
    await running.stop();
    expect(ran).toEqual(['hook']);
    expect(printed[0]).toBe('Trellis (standalone) is running.');
    expect(printed).toContain(`  ${'data'.padEnd(12)} ${dir}`);
    expect(printed[printed.length - 1]).toBe('\nYour key: k-123');
  });

  it('runs no deferred work when the start fails before everything listens, so the next start does it', async () => {
    const { service, ran } = noticingService();
    const failing: EdgeDefinition = {
      name: 'broken',
      start: () => Promise.reject(new StartupError('the broken edge cannot listen')),
    };
    const printed: string[] = [];
    await expect(runProcess({ mode: 'standalone', services: [service], edges: [failing], print: (line) => printed.push(line) })).rejects.toThrow(
      'the broken edge cannot listen',
    );
    expect(ran).toEqual([]);
    expect(printed).toEqual([]);
  });

  it('logs "database ready" with the name of the PostgreSQL database it uses', async () => {
    const database = await createTestDatabase();
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
          done();
        },
      }),
    );
    const config = loadConfig({ services: ['widgets'], env: { ...process.env, TRELLIS_MODE: 'distributed', TRELLIS_WIDGETS_DATABASE_URL: database.config.url, TRELLIS_AUTH_JWKS_URL: 'http://127.0.0.1:1/jwks' } });
    const runtime = await PlatformRuntime.create(config, { logger, withoutBroker: true });
    try {
      const running = await startService(widgetService, runtime);
      await running.close();
    } finally {
      await runtime.close();
      await database.drop();
    }
    const name = new URL(database.config.url).pathname.slice(1);
    expect(name).not.toBe(new URL(testPostgresUrl()).pathname.slice(1));
    expect(lines.find((line) => line.msg === 'database ready')).toMatchObject({ service: 'widgets', engine: 'postgres', database: name });
  });
});

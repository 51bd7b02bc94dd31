import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AnyPlugin } from '@trellis/plugin-sdk';
import { ENVIRONMENT, ENVIRONMENT_PREFIXES, loadConfig } from '../config';
import { createGrpcClient, type GrpcClient } from '../grpc/grpc-client';
import type { ServiceDefinition } from '../service/define-service';
import { PlatformRuntime } from '../service/platform-runtime';
import { startService, type RunningService } from '../service/start-service';
import { TestKeySet, type TestTokenClaims } from './test-key-set';

/**
 * A platform for one spec file: a standalone runtime on a temporary directory whose services
 * trust a test key set, so a spec starts the services it tests and calls them as any client
 * would. `stop()` closes clients, services and the runtime and removes the directory.
 */
export class TestPlatform {
  private readonly services: RunningService[] = [];
  private readonly clients: Array<{ close(): void }> = [];

  private constructor(
    /** The temporary data directory. */
    readonly dir: string,
    /** Signs tokens the services accept. */
    readonly keys: TestKeySet,
    readonly runtime: PlatformRuntime,
    /** Where `/healthz`, `/readyz` and `/metrics` answer. */
    readonly opsAddress: string,
  ) {}

  /**
   * Starts the runtime; `env` adds or overrides `TRELLIS_*` settings (say, distributed mode), and
   * `plugins` are built in as a program would (storage-fs for a service that stores objects).
   */
  static async start(env: Record<string, string> = {}, options: { plugins?: readonly AnyPlugin[] } = {}): Promise<TestPlatform> {
    const dir = mkdtempSync(join(tmpdir(), 'trellis-test-'));
    const keys = await TestKeySet.create();
    writeFileSync(join(dir, 'jwks.json'), JSON.stringify(keys.jwks));
    const config = loadConfig({
      // Variables the kit does not own set keys of service sections: TRELLIS_GOVERNANCE_ADMIN_KEY.
      services: Object.keys(env)
        .filter((name) => !Object.hasOwn(ENVIRONMENT, name) && !Object.keys(ENVIRONMENT_PREFIXES).some((prefix) => name.startsWith(prefix)))
        .map((name) => /^TRELLIS_([A-Z][A-Z0-9]*)_[A-Z]/.exec(name)?.[1]?.toLowerCase())
        .filter((name): name is string => !!name),
      env: {
        TRELLIS_DATA_DIR: dir,
        TRELLIS_AUTH_JWKS_FILE: join(dir, 'jwks.json'),
        TRELLIS_OPS_PORT: '0',
        TRELLIS_LOG_LEVEL: 'silent',
        ...env,
      },
    });
    const runtime = await PlatformRuntime.create(config, { plugins: options.plugins });
    // Standing in for governance, the key set also issues services their own tokens: a service
    // account with a viewer's role in each project its calls have needed, as governance's has in every project.
    runtime.serviceTokenSource = (service) => ({
      async issue(projects) {
        const ttlSeconds = config.auth.tokenTtlSeconds;
        const bindings = projects.map((project) => ({ project, role: 'viewer' as const }));
        return { token: await keys.mint({ sub: `service-${service}`, kind: 'service_account', bindings, ttlSeconds }), expiresAt: Date.now() + ttlSeconds * 1000 };
      },
    });
    return new TestPlatform(dir, keys, runtime, await runtime.listenOps());
  }

  /**
   * Starts a service on this platform, on a free port unless `env` named one (never its default
   * port, which two specs running side by side would both want); it is stopped with the platform.
   */
  async startService(definition: ServiceDefinition): Promise<RunningService> {
    const service = await startService({ ...definition, defaultPort: 0 }, this.runtime);
    this.services.push(service);
    return service;
  }

  /** A client of `service` at `address`, calling with a token for `claims` (none: anonymous). */
  async client<T extends GenServiceMethods>(service: GenService<T>, address: string, claims?: TestTokenClaims): Promise<GrpcClient<T>> {
    const client = createGrpcClient(service, address, { token: claims ? await this.keys.mint(claims) : undefined });
    this.clients.push(client);
    return client;
  }

  async stop(): Promise<void> {
    for (const client of this.clients) client.close();
    for (const service of this.services.reverse()) await service.close();
    await this.runtime.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

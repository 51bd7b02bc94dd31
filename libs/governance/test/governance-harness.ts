import { createGrpcClient, loadConfig, PlatformRuntime, startService, type RunningService, type ServiceDefinition } from '@trellis/platform';
import { IdentityServiceDesc, TokenServiceDesc } from '@trellis/proto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';

/** A governance process for tests: standalone on a temp dir, its stdout and logs captured. */
export class GovernanceHarness {
  readonly printed: string[] = [];
  readonly logs: string[] = [];
  runtime!: PlatformRuntime;
  service!: RunningService;
  opsAddress!: string;
  private constructor(
    readonly dir: string,
    private readonly definition: ServiceDefinition,
    private readonly env: Record<string, string>,
  ) {}

  static async start(definition: ServiceDefinition, env: Record<string, string> = {}): Promise<GovernanceHarness> {
    const harness = new GovernanceHarness(mkdtempSync(join(tmpdir(), 'trellis-gov-')), definition, env);
    try {
      await harness.boot();
    } catch (error) {
      rmSync(harness.dir, { recursive: true, force: true });
      throw error;
    }
    return harness;
  }

  /** Starts (again) on the same data directory, as a restart would. */
  async boot(): Promise<void> {
    const config = loadConfig({
      services: ['governance'],
      env: { TRELLIS_DATA_DIR: this.dir, TRELLIS_OPS_PORT: '0', TRELLIS_GOVERNANCE_PORT: '0', TRELLIS_LOG_LEVEL: 'trace', ...this.env },
    });
    const sink = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        this.logs.push(chunk.toString());
        done();
      },
    });
    const logger = pino({ level: 'trace' }, sink);
    this.runtime = await PlatformRuntime.create(config, { logger });
    this.opsAddress = await this.runtime.listenOps();
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((text: string) => {
      this.printed.push(String(text));
      return true;
    }) as typeof process.stdout.write;
    try {
      this.service = await startService(this.definition, this.runtime);
    } catch (error) {
      // An open ops server would keep jest from ever exiting.
      await this.runtime.close();
      throw error;
    } finally {
      process.stdout.write = write;
    }
  }

  async stop(): Promise<void> {
    await this.service?.close();
    await this.runtime?.close();
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The admin key printed at first start. */
  get adminKey(): string {
    const key = /trellis_[0-9a-f]{16}_[A-Za-z0-9_-]{43}/.exec(this.printed.join(''))?.[0];
    if (!key) throw new Error(`no admin key was printed: ${this.printed.join('')}`);
    return key;
  }

  tokens(token?: string) {
    return createGrpcClient(TokenServiceDesc, this.service.grpcAddress, { token });
  }

  identity(token: string) {
    return createGrpcClient(IdentityServiceDesc, this.service.grpcAddress, { token });
  }

  async exchange(apiKey: string): Promise<string> {
    const client = this.tokens();
    try {
      return (await client.exchangeApiKey({ apiKey })).token;
    } finally {
      client.close();
    }
  }
}

import { status } from '@grpc/grpc-js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../config';
import { TestKeySet } from '../testing/test-key-set';
import { Caller } from './caller';
import { createMongoAbility } from '@casl/ability';
import type { AppAbility } from './ability';
import { credentialReference, resolveSecretReference, ServiceIdentity, ServiceIdentityError, type ServiceToken } from './service-identity';

/** A governance stand-in: issues tokens in turn, each as long-lived as `lifetimeMs` says, or fails as told. */
class FakeGovernance {
  issued = 0;
  lifetimeMs = 300_000;
  failures: Array<{ code: number; details: string }> = [];
  asked: string[][] = [];
  /** Projects governance names no role in, whatever it is asked (a project deleted, say). */
  withheld = new Set<string>();
  constructor(private readonly keys: TestKeySet) {}

  async issue(projects: readonly string[]): Promise<ServiceToken> {
    this.asked.push([...projects]);
    const failure = this.failures.shift();
    if (failure) throw Object.assign(new Error(failure.details), failure);
    this.issued++;
    const bindings = projects.filter((project) => !this.withheld.has(project)).map((project) => ({ project, role: 'viewer' as const }));
    return { token: await this.keys.mint({ sub: `service-registry-${this.issued}`, kind: 'service_account', bindings }), expiresAt: Date.now() + this.lifetimeMs };
  }
}

describe('ServiceIdentity', () => {
  let keys: TestKeySet;
  let governance: FakeGovernance;
  const identities: ServiceIdentity[] = [];
  const identity = (options: { attempts?: number; firstDelayMs?: number; freshMs?: number } = {}) => {
    const made = new ServiceIdentity({ service: 'registry', source: governance, firstDelayMs: 1, maxDelayMs: 4, ...options });
    identities.push(made);
    return made;
  };

  beforeAll(async () => {
    keys = await TestKeySet.create();
  });
  beforeEach(() => {
    governance = new FakeGovernance(keys);
  });
  afterEach(() => {
    for (const made of identities.splice(0)) made.close();
  });

  it('gets a token when first asked and reuses it while more than a third of its life is left', async () => {
    const registry = identity();
    expect(registry.expiresAt).toBeUndefined();
    const first = await registry.token();
    expect(await registry.token()).toBe(first);
    expect(governance.issued).toBe(1);
    expect(registry.expiresAt).toBeGreaterThan(Date.now() + 200_000);
  });

  it('renews a token with a third or less of its life left, once for every caller waiting at that moment', async () => {
    const registry = identity();
    governance.lifetimeMs = 0;
    const first = await registry.token();
    governance.lifetimeMs = 300_000;
    const renewed = await Promise.all([registry.token(), registry.token(), registry.token()]);
    expect(new Set(renewed).size).toBe(1);
    expect(renewed[0]).not.toBe(first);
    expect(governance.issued).toBe(2);
  });

  it('retries a renewal governance does not answer, with back-off, and then succeeds', async () => {
    const registry = identity();
    governance.failures = [
      { code: status.UNAVAILABLE, details: 'connect ECONNREFUSED' },
      { code: status.RESOURCE_EXHAUSTED, details: 'too many exchanges' },
    ];
    await expect(registry.token()).resolves.toMatch(/^ey/);
    expect(governance.asked).toHaveLength(3);
  });

  it('gives up after its attempts, saying that governance did not answer', async () => {
    const registry = identity({ attempts: 3 });
    governance.failures = Array.from({ length: 3 }, () => ({ code: status.UNAVAILABLE, details: 'connect ECONNREFUSED 127.0.0.1:50051' }));
    const error = await registry.token().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ServiceIdentityError);
    expect((error as Error).message).toBe('registry could not get a token of its own from governance: connect ECONNREFUSED 127.0.0.1:50051');
    expect(governance.asked).toHaveLength(3);
  });

  it('does not retry a credential governance refuses, and names the setting and how to get a new one', async () => {
    const registry = identity();
    governance.failures = [{ code: status.UNAUTHENTICATED, details: 'API key rejected: unknown, revoked or expired' }];
    await expect(registry.token()).rejects.toThrow(
      "governance refused registry's credential (services.registry.credential (TRELLIS_REGISTRY_CREDENTIAL)): API key rejected: unknown, revoked or expired; issue a new one with `npm run service-key -- registry`",
    );
    expect(governance.asked).toHaveLength(1);
  });

  it('renews a token that names no role in a project a call touches (a project made since), at once, even a token issued just now', async () => {
    const young = identity({ freshMs: 60_000 });
    const first = await young.token('p1');
    // Not asked for p2 yet: asked at once, however young the token.
    const second = await young.token('p2');
    expect(second).not.toBe(first);
    expect(governance.asked).toEqual([['p1'], ['p1', 'p2']]);
    governance.asked = [];

    const registry = identity({ freshMs: 0 });
    const token = await registry.token('p1');
    expect(await registry.token('p1')).toBe(token);
    const renewed = await registry.token('p2');
    expect(renewed).not.toBe(token);
    expect(governance.asked).toEqual([['p1'], ['p1', 'p2']]);
    expect(await registry.token('p2')).toBe(renewed);
  });

  it('asks again for a project governance just left out of a token only once the token is freshMs old', async () => {
    governance.withheld.add('gone');
    const registry = identity({ freshMs: 60_000 });
    const token = await registry.token('gone');
    // Governance answered just now without it: asking again would get the same.
    expect(await registry.token('gone')).toBe(token);
    expect(governance.asked).toEqual([['gone']]);
  });

  it("gives call options that act as the service for the caller: its token, the user's id and the request id", async () => {
    const registry = identity();
    const ability = createMongoAbility([]) as AppAbility;
    const user = { id: 'alice', kind: 'user' as const, orgId: 'o', orgAdmin: false, bindings: [], expiresAt: Date.now() + 1000, scoped: false };
    const caller = new Caller(user, ability, 'req-7', 'user-token', '127.0.0.1:1');
    const options = await registry.callOptions({ onBehalfOf: caller, timeoutMs: 5000 });
    expect(options).toMatchObject({ onBehalfOf: 'alice', requestId: 'req-7', timeoutMs: 5000 });
    expect(options.token).not.toBe('user-token');
    expect(options.token).toBe(await registry.token());
  });

  it('stops at once when closed, even while waiting to retry, and issues nothing after', async () => {
    const registry = identity({ firstDelayMs: 60_000 });
    governance.failures = [{ code: status.UNAVAILABLE, details: 'down' }];
    const pending = registry.token();
    await new Promise((resolve) => setImmediate(resolve));
    registry.close();
    await expect(pending).rejects.toThrow('registry is stopping: its service identity issues no more tokens');
    await expect(registry.token()).rejects.toBeInstanceOf(ServiceIdentityError);
    expect(governance.issued).toBe(0);
  });
});

describe('service credentials', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-credential-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const setting = 'services.registry.credential (TRELLIS_REGISTRY_CREDENTIAL)';

  it('reads env: and file: references, without the file’s trailing newline', async () => {
    process.env.TRELLIS_SPEC_REGISTRY_KEY = 'trellis_key_from_env';
    writeFileSync(join(dir, 'registry.key'), 'trellis_key_from_file\n');
    await expect(resolveSecretReference('env:TRELLIS_SPEC_REGISTRY_KEY', setting)).resolves.toBe('trellis_key_from_env');
    await expect(resolveSecretReference(`file:${join(dir, 'registry.key')}`, setting)).resolves.toBe('trellis_key_from_file');
    delete process.env.TRELLIS_SPEC_REGISTRY_KEY;
  });

  it('refuses a secret given as itself, a relative file, a missing variable or file, naming the setting', async () => {
    await expect(resolveSecretReference('trellis_0123456789abcdef_secret', setting)).rejects.toThrow(`${setting}: must be a secret reference, env:<VARIABLE> or file:/absolute/path, never the secret itself`);
    await expect(resolveSecretReference('file:keys/registry.key', setting)).rejects.toThrow(ConfigError);
    await expect(resolveSecretReference('env:TRELLIS_SPEC_UNSET', setting)).rejects.toThrow(`${setting}: the environment variable TRELLIS_SPEC_UNSET is not set`);
    await expect(resolveSecretReference(`file:${join(dir, 'missing.key')}`, setting)).rejects.toThrow(`${setting}: cannot read ${join(dir, 'missing.key')}`);
  });

  it('finds the key file governance writes in standalone, and requires the setting in distributed mode', () => {
    const standalone = loadConfig({ services: ['registry'], env: { TRELLIS_DATA_DIR: dir } });
    expect(credentialReference('registry', standalone)).toBe(`file:${join(dir, 'keys', 'registry.key')}`);
    const distributed = loadConfig({ services: ['registry'], env: { TRELLIS_MODE: 'distributed', TRELLIS_REGISTRY_CREDENTIAL: 'env:REGISTRY_KEY' } });
    expect(credentialReference('registry', distributed)).toBe('env:REGISTRY_KEY');
    const missing = loadConfig({ services: ['registry'], env: { TRELLIS_MODE: 'distributed' } });
    expect(() => credentialReference('registry', missing)).toThrow(/^registry runs work as its own service account, so it needs a credential: set services\.registry\.credential \(TRELLIS_REGISTRY_CREDENTIAL\)/);
    expect(() => loadConfig({ services: ['registry'], env: { TRELLIS_REGISTRY_CREDENTIAL: 'trellis_raw_key' } })).toThrow(/services\.registry\.credential/);
  });
});

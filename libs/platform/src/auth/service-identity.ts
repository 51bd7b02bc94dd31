import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { TokenServiceDesc } from '@trellis/proto';
import { ConfigError, serviceVariable, type TrellisConfig } from '../config';
import { readSecretReference, secretReferenceKind } from '../config/secret-reference';
import { DomainError } from '../errors';
import type { GrpcCallOptions } from '../grpc/grpc-client';
import type { ServiceClients } from '../grpc/service-clients';
import type { Logger } from '../ops/logger';
import { pause } from '@trellis/plugin-sdk';
import type { Caller } from './caller';

/** A token of a service's own account, and when it stops being valid (milliseconds since the epoch). */
export interface ServiceToken {
  token: string;
  expiresAt: number;
}

/**
 * Where a service's tokens come from: governance, exchanging the service's API key
 * ({@link governanceTokenSource}), or a test key set standing in for it.
 */
export interface ServiceTokenSource {
  /**
   * A new token of the service's account. `projects` are those the service's calls have needed
   * so far; governance decides the account's access itself and ignores them.
   */
  issue(projects: readonly string[]): Promise<ServiceToken>;
}

/** The service's identity could not get a token: its credential is missing or refused, or governance did not answer. */
export class ServiceIdentityError extends DomainError {
  readonly code = status.UNAVAILABLE;
}

/** How a {@link ServiceIdentity} renews. */
export interface ServiceIdentityOptions {
  /** The service's name, as messages name it. */
  service: string;
  source: ServiceTokenSource;
  logger?: Logger;
  /** Attempts of one renewal when governance does not answer (default 6: 0.2 s, 0.4 s ... then 5 s apart). */
  attempts?: number;
  /** Delay before the first retry, doubled after each (default 200 ms), up to `maxDelayMs` (default 5 s). */
  firstDelayMs?: number;
  maxDelayMs?: number;
  /** A token younger than this is not renewed for a project it lacks that it was asked for: governance answered just now (default 1 s). */
  freshMs?: number;
}

/** What one call made as the service says about who asked for it. */
export interface ActingFor {
  /** The user whose request started the work: the receiving service audits the call as acting on their behalf. */
  onBehalfOf?: Caller | string;
  /** The project the call touches: a token issued before the project existed is renewed first. */
  projectId?: string;
  requestId?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Most projects remembered as needed: a token names each, so the list must not grow without end. */
const MAX_NEEDED_PROJECTS = 1000;

/**
 * The service's own principal, for work that outlives the request that started it (a registry
 * copy, a job, a monitor): a service account whose short-lived tokens it renews itself. Inject it
 * and call other services with `await identity.callOptions({ onBehalfOf: caller })`: the receiving
 * service sees the service account as its caller and `caller.onBehalfOf` as the user, which its
 * audit records name. Check the user's own right first, with the user's token, while the request
 * lasts; the service account may read more than the user.
 *
 * A token is got when first needed and renewed when a call needs one and a third of its life or
 * less is left, or when it names no role in the project a call touches (a project created since).
 * Concurrent calls share one renewal; a renewal that governance does not answer is retried with
 * back-off. No timer outlives a renewal, and `close()` ends any wait at once.
 */
export class ServiceIdentity {
  /** The token in use: when it was issued, the projects it names a role in, and those it was asked for. */
  private current?: ServiceToken & { issuedAt: number; projects: ReadonlySet<string> | 'all'; asked: ReadonlySet<string> };
  private renewal?: Promise<ServiceToken>;
  private readonly needed = new Set<string>();
  private readonly closed = new AbortController();

  constructor(private readonly options: ServiceIdentityOptions) {}

  /** When the current token expires (milliseconds since the epoch), or undefined before the first. */
  get expiresAt(): number | undefined {
    return this.current?.expiresAt;
  }

  /** A valid token of the service's account, renewed first when needed (see the class). */
  async token(projectId?: string): Promise<string> {
    if (projectId && !this.needed.has(projectId)) {
      if (this.needed.size >= MAX_NEEDED_PROJECTS) this.needed.clear();
      this.needed.add(projectId);
    }
    const now = Date.now();
    const current = this.current;
    // A project the token was not asked for is asked for at once; one governance just left out, not before freshMs.
    const justRefused = current !== undefined && current.asked.has(projectId ?? '') && now - current.issuedAt < (this.options.freshMs ?? 1000);
    const stale = projectId !== undefined && lacks(current, projectId) && !justRefused;
    if (current && !dueForRenewal(current, now) && !stale) return current.token;
    return (await this.renew()).token;
  }

  /** Options of a call made as the service, for a kit client: its token, and the user it acts for. */
  async callOptions(acting: ActingFor = {}): Promise<GrpcCallOptions> {
    const caller = typeof acting.onBehalfOf === 'string' ? undefined : acting.onBehalfOf;
    const onBehalfOf = typeof acting.onBehalfOf === 'string' ? acting.onBehalfOf : caller?.principal?.id;
    return {
      token: await this.token(acting.projectId),
      requestId: acting.requestId ?? caller?.requestId,
      onBehalfOf,
      timeoutMs: acting.timeoutMs ?? 30_000,
      signal: acting.signal,
    };
  }

  /** Ends any renewal in progress and refuses new ones: the service is stopping. */
  close(): void {
    this.closed.abort();
  }

  private renew(): Promise<ServiceToken> {
    this.renewal ??= this.issueWithRetries().finally(() => (this.renewal = undefined));
    return this.renewal;
  }

  private async issueWithRetries(): Promise<ServiceToken> {
    const { service, source, attempts = 6, firstDelayMs = 200, maxDelayMs = 5000 } = this.options;
    let delay = firstDelayMs;
    for (let attempt = 1; ; attempt++) {
      if (this.closed.signal.aborted) throw new ServiceIdentityError(`${service} is stopping: its service identity issues no more tokens`);
      const issuedAt = Date.now();
      try {
        const asked = [...this.needed];
        const issued = await source.issue(asked);
        this.current = { ...issued, issuedAt, projects: projectsOf(issued.token), asked: new Set(asked) };
        return issued;
      } catch (error) {
        if (!retriable(error) || attempt >= attempts) throw asIdentityError(service, error);
        const wait = Math.max(delay, ((error as { retryAfterSeconds?: number }).retryAfterSeconds ?? 0) * 1000);
        this.options.logger?.warn({ err: error, attempt, retryInMs: wait }, `${service} could not renew its service token; retrying`);
        await pause(wait, this.closed.signal);
        delay = Math.min(delay * 2, maxDelayMs);
      }
    }
  }
}

/** Whether a third or less of the token's life is left. */
function dueForRenewal(token: ServiceToken & { issuedAt: number }, now: number): boolean {
  return token.expiresAt <= now || token.expiresAt - now <= (token.expiresAt - token.issuedAt) / 3;
}

function lacks(token: { projects: ReadonlySet<string> | 'all' } | undefined, projectId: string): boolean {
  return !!token && token.projects !== 'all' && !token.projects.has(projectId);
}

/** The projects a token names a role in, read from its own claims (the service's own token: it need not verify it). */
function projectsOf(token: string): ReadonlySet<string> | 'all' {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { bindings?: Array<{ project?: unknown }> };
    return new Set((claims.bindings ?? []).map((binding) => String(binding.project)));
  } catch {
    // Not a JWT this code can read: never renew for a project, let the call answer for itself.
    return 'all';
  }
}

/** Governance not answering, or rate-limiting, passes; a refused or missing credential does not. */
function retriable(error: unknown): boolean {
  if (error instanceof ConfigError || error instanceof ServiceIdentityError) return false;
  const code = (error as { code?: unknown }).code;
  return code === status.UNAVAILABLE || code === status.DEADLINE_EXCEEDED || code === status.RESOURCE_EXHAUSTED || code === status.INTERNAL;
}

function asIdentityError(service: string, error: unknown): Error {
  if (error instanceof ServiceIdentityError || error instanceof ConfigError) return error;
  const details = (error as { details?: string }).details ?? (error as Error).message ?? String(error);
  if ((error as { code?: unknown }).code === status.UNAUTHENTICATED) {
    return new ServiceIdentityError(
      `governance refused ${service}'s credential (${credentialSetting(service)}): ${details}; issue a new one with \`npm run service-key -- ${service}\``,
      { reason: 'SERVICE_CREDENTIAL_REFUSED' },
    );
  }
  return new ServiceIdentityError(`${service} could not get a token of its own from governance: ${details}`, { reason: 'SERVICE_TOKEN_UNAVAILABLE' });
}

/** The setting of a service's credential, as messages name it: `services.registry.credential (TRELLIS_REGISTRY_CREDENTIAL)`. */
export function credentialSetting(service: string): string {
  return `services.${service}.credential (${serviceVariable(service, 'credential')})`;
}

/**
 * The secret reference of a service's credential: `services.<name>.credential`, or in standalone,
 * where governance writes one for each service of the process at start, the key file
 * `<dataDir>/keys/<name>.key`. A distributed service with none configured is a ConfigError naming
 * the setting.
 */
export function credentialReference(service: string, config: TrellisConfig): string {
  const configured = config.services[service]?.credential;
  if (configured) return configured;
  if (config.mode === 'standalone') return `file:${join(config.dataDir, 'keys', serviceKeyFileName(service))}`;
  throw new ConfigError(
    `${service} runs work as its own service account, so it needs a credential: set ${credentialSetting(service)} to env:<VARIABLE> or file:/path holding its API key (\`npm run service-key -- ${service}\` issues one)`,
  );
}

/**
 * In a standalone process, where governance and the services that run as themselves share one
 * data directory: governance says how it provisions a service's credential (its service account,
 * and an API key written to `<dataDir>/keys/<service>.key`), and each such service has it done as
 * it starts, so standalone needs no setup. Without governance in the process, nothing is done and
 * the service reads whatever key file is there.
 */
export class LocalServiceCredentials {
  private provisioner?: (service: string, keyFile: string) => Promise<void>;

  constructor(
    /** `<dataDir>/keys`. */
    readonly keysDir: string,
  ) {}

  /** Governance: how a service's credential is provisioned (called once per service that needs one, at its start). */
  provideWith(provisioner: (service: string, keyFile: string) => Promise<void>): void {
    this.provisioner = provisioner;
  }

  /** Has governance of this process, if any, make sure `service` has a usable key file; returns its path. */
  async ensure(service: string): Promise<string> {
    const keyFile = join(this.keysDir, serviceKeyFileName(service));
    await this.provisioner?.(service, keyFile);
    return keyFile;
  }
}

/** The name of the key file governance writes for a service of a standalone process, under `<dataDir>/keys/`. */
export function serviceKeyFileName(service: string): string {
  return `${service}.key`;
}

/**
 * The secret a reference names: `env:NAME`, an environment variable; `file:/absolute/path`, a
 * file's content without its trailing newline (read as plugin configs' references are). A
 * ConfigError names `setting` when it is no reference, cannot be read or is empty.
 */
export async function resolveSecretReference(reference: string, setting: string): Promise<string> {
  if (!secretReferenceKind(reference)) throw new ConfigError(`${setting}: must be a secret reference, env:<VARIABLE> or file:/absolute/path, never the secret itself`);
  try {
    return await readSecretReference(reference);
  } catch (error) {
    throw new ConfigError(`${setting}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * The token source of a service in either mode: its API key, read from its credential reference
 * at each renewal (a rotated file is picked up), exchanged with governance (`TokenService/ExchangeApiKey`),
 * in this process or at `services.governance.address`.
 */
export function governanceTokenSource(service: string, config: TrellisConfig, clients: ServiceClients): ServiceTokenSource {
  return {
    async issue() {
      const apiKey = await resolveSecretReference(credentialReference(service, config), credentialSetting(service));
      const { token, expireTime } = await clients.of(TokenServiceDesc, 'governance').exchangeApiKey({ apiKey }, { timeoutMs: 10_000 });
      const expiresAt = expireTime ? Number(expireTime.seconds) * 1000 + Math.floor(expireTime.nanos / 1e6) : Date.now() + config.auth.tokenTtlSeconds * 1000;
      return { token, expiresAt };
    },
  };
}

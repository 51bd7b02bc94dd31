import { Inject, Injectable } from '@nestjs/common';
import {
  AuditRecorder,
  checkNoControlCharacters,
  decodePageToken,
  SERVICE_CONFIG,
  excerpt,
  InvalidArgumentError,
  NotFoundError,
  pageOf,
  pageSizeOf,
  PermissionDeniedError,
  RateLimiter,
  resourceName,
  ResourceExhaustedError,
  UnauthenticatedError,
  type Caller,
} from '@trellis/platform';
import type { JSONWebKeySet } from 'jose';
import type { EntityManager } from 'typeorm';
import { AccessRevocationPublisher } from '../identity/access-revocation.publisher';
import type { PrincipalEntity } from '../identity/identity.entity';
import { principalNotFound, projectNotFound } from '../identity/identity-errors';
import { IdentityRepository } from '../identity/identity.repository';
import { IdentityService } from '../identity/identity.service';
import { apiKeyMatches, hashApiKey, newApiKey, parseApiKey } from './api-key-secret';
import { SigningKeyService } from './signing-key.service';
import type { ApiKeyEntity } from './token.entity';
import { TokenRepository } from './token.repository';
import type { GovernanceConfig } from '../governance.config';

/** Same message for every bad key, so a caller learns nothing about which keys exist. */
const REJECTED = 'API key rejected: unknown, revoked or expired';
/** Where a page of API keys continues: `<created_at ms>:<key id>`. */
const API_KEY_POSITION = /^\d{1,16}:[0-9a-f]{16}$/;

/** API keys and their exchange for tokens. */
@Injectable()
export class TokenService {
  // Per key: a script that leaks a key cannot mint tokens fast; per address: guessing is slow.
  private readonly perKey: RateLimiter;
  private readonly perAddress: RateLimiter;

  constructor(
    private readonly repository: TokenRepository,
    private readonly identities: IdentityRepository,
    private readonly identity: IdentityService,
    private readonly revocations: AccessRevocationPublisher,
    private readonly signingKeys: SigningKeyService,
    private readonly audit: AuditRecorder,
    @Inject(SERVICE_CONFIG) config: GovernanceConfig,
  ) {
    const { exchangesPerKeyPerSecond: perKey, exchangesPerAddressPerSecond: perAddress } = config;
    this.perKey = new RateLimiter({ ratePerSecond: perKey, burst: perKey * 4 });
    this.perAddress = new RateLimiter({ ratePerSecond: perAddress, burst: perAddress * 4 });
  }

  async createApiKey(
    caller: Caller,
    input: { principalId: string; name: string; projectIds: string[]; expiresAt: number | null },
  ): Promise<{ apiKey: ApiKeyEntity; secret: string }> {
    const principal = await this.ownedPrincipal(caller, input.principalId || caller.authenticated.id, 'create');
    if (input.name.length > 200) throw new InvalidArgumentError('must be at most 200 characters', 'name');
    checkNoControlCharacters(input.name, 'name');
    if (input.expiresAt !== null && input.expiresAt <= Date.now()) throw new InvalidArgumentError('must be in the future', 'expire_time');
    if (input.projectIds.length > 100) throw new InvalidArgumentError('at most 100 projects', 'project_ids');
    if (isDelegated(caller, principal.id)) await this.assertDelegatedKey(principal, input);
    else await this.assertVisibleProjects(caller, input.projectIds);
    return this.repository.transaction(async (tx) => {
      const stored = await storeApiKey(this.repository, tx, principal.id, input);
      caller.target = { kind: 'ApiKey', projectId: '', id: stored.apiKey.id };
      await this.audit.recordIn(tx, caller);
      return stored;
    });
  }

  /** A page of a principal's keys (the caller's when `principalId` is empty), oldest first, ties by id. */
  async listApiKeys(caller: Caller, query: { principalId: string; pageSize: number; pageToken: string }): Promise<{ apiKeys: ApiKeyEntity[]; nextPageToken: string }> {
    const size = pageSizeOf(query.pageSize);
    const principal = await this.ownedPrincipal(caller, query.principalId || caller.authenticated.id, 'read');
    const listing = { principalId: principal.id };
    const position = decodePageToken(query.pageToken, listing, API_KEY_POSITION);
    const after = position === undefined ? undefined : { createdAt: Number(position.slice(0, position.indexOf(':'))), id: position.slice(position.indexOf(':') + 1) };
    const rows = await this.repository.apiKeysOf(principal.id, { after, limit: size + 1 });
    const { items, nextPageToken } = pageOf(rows, size, (key) => `${key.createdAt}:${key.id}`, listing);
    return { apiKeys: items, nextPageToken };
  }

  async revokeApiKey(caller: Caller, apiKeyId: string): Promise<ApiKeyEntity> {
    const apiKey = await this.repository.findApiKey(apiKeyId);
    if (!apiKey) throw apiKeyNotFound(apiKeyId);
    await this.ownedPrincipal(caller, apiKey.principalId, 'delete').catch(() => {
      throw apiKeyNotFound(apiKeyId);
    });
    if (apiKey.revokedAt === null) {
      const revokedAt = Date.now();
      apiKey.revokedAt = revokedAt;
      await this.repository.transaction(async (tx) => {
        await this.repository.revokeApiKey(tx, apiKey.id, revokedAt);
        await this.revocations.apiKeyRevoked(tx, caller, apiKey);
        caller.target = { kind: 'ApiKey', projectId: '', id: apiKey.id };
        await this.audit.recordIn(tx, caller);
      });
    }
    return apiKey;
  }

  /**
   * Trades a key for a token. Checked at every exchange, so a revoked key fails at once; the
   * token carries the principal's current bindings, narrowed to the key's projects, the key's id
   * and the principal's access version, which revocations name.
   */
  async exchange(secret: string, clientAddress: string): Promise<{ token: string; expiresAt: number }> {
    const parsed = parseApiKey(secret);
    if (!parsed) throw this.rejected(clientAddress, 'API key rejected: not a Trellis API key (trellis_...)');

    const apiKey = await this.repository.transaction((tx) => this.repository.findApiKey(parsed.id, tx));
    const now = Date.now();
    if (!apiKey || !apiKeyMatches(secret, apiKey.secretSha256) || apiKey.revokedAt !== null || (apiKey.expiresAt !== null && apiKey.expiresAt <= now)) {
      throw this.rejected(clientAddress, REJECTED);
    }
    // Counted only once the secret matched: key ids are not secret, and a guesser must not lock the holder out.
    if (!this.perKey.take(parsed.id)) {
      throw new ResourceExhaustedError('too many exchanges of this API key; reuse the token until it expires', this.perKey.retryAfterSeconds(parsed.id), { reason: 'EXCHANGE_RATE_LIMITED' });
    }
    const principal = await this.identities.findPrincipal({ id: apiKey.principalId });
    if (!principal) throw new UnauthenticatedError(REJECTED, { reason: 'API_KEY_REJECTED' });

    const scoped = apiKey.projectIds.length > 0;
    const bindings = (await this.identity.bindingsOf(principal)).filter((binding) => !scoped || apiKey.projectIds.includes(binding.projectId));
    await this.repository.transaction((tx) => this.repository.markApiKeyUsed(tx, apiKey.id, now));
    return this.signingKeys.sign({
      sub: principal.id,
      kind: principal.kind,
      // Only governance makes platform services' accounts, so only their tokens carry this.
      ...(principal.service ? { service: principal.service } : {}),
      org: principal.orgId,
      // A key limited to some projects never carries org-wide powers.
      org_admin: principal.orgAdmin && !scoped,
      bindings: bindings.map(({ projectId, role }) => ({ project: projectId, role })),
      scoped,
      key_id: apiKey.id,
      // Read before the bindings: a reduction committed in between makes this token too old, never too new.
      access_version: principal.accessVersion,
    });
  }

  /** Every public key a valid token may be signed with. */
  signingKeySet(): Promise<JSONWebKeySet> {
    return this.signingKeys.keySet();
  }

  /** Retires the signing key and starts signing with a new one (org admins only); returns the new key's id. */
  rotateSigningKey(caller: Caller): Promise<string> {
    caller.assertOrgAdmin('rotate signing keys');
    return this.signingKeys.rotate();
  }

  /**
   * The error of a rejected exchange. Only rejections count against the client address's budget:
   * every client behind the gateway shares its address, and someone sending bad keys must not
   * stop everyone else's good ones.
   */
  private rejected(clientAddress: string, message: string): Error {
    const address = addressKey(clientAddress);
    if (!this.perAddress.take(address)) {
      return new ResourceExhaustedError('too many rejected key exchanges from this address; wait a few seconds', this.perAddress.retryAfterSeconds(address), { reason: 'EXCHANGE_RATE_LIMITED' });
    }
    return new UnauthenticatedError(message, { reason: 'API_KEY_REJECTED' });
  }

  /**
   * Refuses project ids that name no project the caller may read, in the same words whether the
   * project exists or not, so a key's scope cannot be used to learn other projects' ids.
   */
  private async assertVisibleProjects(caller: Caller, projectIds: string[]): Promise<void> {
    if (projectIds.length === 0) return;
    const projects = await this.identities.findProjects(projectIds);
    const visible = new Set(projects.filter((project) => caller.can('read', 'Project', { projectId: project.id, orgId: project.orgId })).map((project) => project.id));
    const hidden = projectIds.find((projectId) => !visible.has(projectId));
    if (hidden !== undefined) throw projectNotFound(hidden, `project_ids: project ${excerpt(hidden)} not found`);
  }

  /**
   * What a platform service may ask for a user it acts for (a compute job's credential): a key
   * limited to projects where the user holds a role now, that expires within `DELEGATED_KEY_MAX_MS`.
   */
  private async assertDelegatedKey(principal: PrincipalEntity, input: { projectIds: string[]; expiresAt: number | null }): Promise<void> {
    if (input.projectIds.length === 0) throw new InvalidArgumentError("a key made for a user by a platform service must name the projects it is for", 'project_ids');
    if (input.expiresAt === null || input.expiresAt > Date.now() + DELEGATED_KEY_MAX_MS) {
      throw new InvalidArgumentError(`a key made for a user by a platform service must expire within ${DELEGATED_KEY_MAX_MS / 86_400_000} days`, 'expire_time');
    }
    const bound = new Set((await this.identity.bindingsOf(principal)).map((binding) => binding.projectId));
    const unbound = input.projectIds.find((projectId) => !bound.has(projectId));
    if (unbound !== undefined) throw projectNotFound(unbound, `project_ids: project ${excerpt(unbound)} not found among ${principal.id}'s projects`);
  }

  /**
   * The principal whose keys the caller manages: their own; any in their org for org admins; or,
   * for a platform service (`Principal.platformService`), the user it acts for in this call (keys
   * it creates are then limited, see `assertDelegatedKey`).
   */
  private async ownedPrincipal(caller: Caller, principalId: string, action: 'create' | 'read' | 'delete'): Promise<PrincipalEntity> {
    const self = caller.authenticated;
    // Otherwise a leaked CI key limited to one project could mint itself an unlimited key.
    if (self.scoped) throw new PermissionDeniedError('a token from a project-scoped API key cannot manage API keys; use an unscoped key', { reason: 'API_KEY_SCOPED' });
    if (principalId !== self.id && !isDelegated(caller, principalId) && !(self.orgAdmin && caller.can(action, 'ApiKey', { projectId: '', orgId: self.orgId }))) {
      throw new PermissionDeniedError(`${self.id} may only manage their own API keys`);
    }
    const principal = await this.identities.findPrincipal({ id: principalId, orgId: self.orgId });
    if (!principal) throw principalNotFound(principalId);
    return principal;
  }
}

/**
 * Stores an API key of `principalId` (a new one, or `given`, a key the operator chose) inside the
 * transaction `tx`, and returns it with its secret, which is never stored.
 */
export async function storeApiKey(
  repository: TokenRepository,
  tx: EntityManager,
  principalId: string,
  input: { name: string; projectIds: string[]; expiresAt: number | null },
  given?: string,
): Promise<{ apiKey: ApiKeyEntity; secret: string }> {
  const parsed = given ? parseApiKey(given) : undefined;
  if (given && !parsed) throw new InvalidArgumentError('is not a Trellis API key (trellis_<16 hex>_<43 base64url>)', 'api_key');
  const { id, secret } = parsed && given ? { id: parsed.id, secret: given } : newApiKey();
  const apiKey = await repository.insertApiKey(tx, {
    id,
    principalId,
    name: input.name,
    projectIds: input.projectIds,
    secretSha256: hashApiKey(secret),
    createdAt: Date.now(),
    expiresAt: input.expiresAt,
    revokedAt: null,
    lastUsedAt: null,
  });
  return { apiKey, secret };
}

/** Longest life of a key a platform service makes for a user: a compute job's credential lives as long as the job may. */
export const DELEGATED_KEY_MAX_MS = 30 * 86_400_000;

/** Whether the caller is a platform service acting, in this call, for `principalId` (`Caller.onBehalfOf`). */
function isDelegated(caller: Caller, principalId: string): boolean {
  return caller.authenticated.platformService !== undefined && caller.onBehalfOf === principalId;
}

/** `ipv4:10.0.0.1:5123` -> `ipv4:10.0.0.1`: the port changes per connection, the host does not. */
function addressKey(peer: string): string {
  return peer.replace(/:\d+$/, '');
}

/** The same words whether the key does not exist or belongs to someone the caller may not manage. */
function apiKeyNotFound(apiKeyId: string): NotFoundError {
  return new NotFoundError(`API key ${apiKeyId} not found`, { reason: 'API_KEY_NOT_FOUND', resource: resourceName(['apiKeys', apiKeyId]) });
}

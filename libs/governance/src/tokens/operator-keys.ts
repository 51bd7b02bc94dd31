import { type AuditRecorder, resourceName } from '@trellis/platform';
import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import type { EntityManager } from 'typeorm';
import type { IdentityRepository } from '../identity/identity.repository';
import type { TokenRepository } from './token.repository';
import { storeApiKey } from './token.service';

/** An API key issued outside any RPC: whose it is, its id, and its secret (shown once). */
export interface IssuedKey {
  principalId: string;
  apiKeyId: string;
  secret: string;
}

/** What issuing a key outside an RPC writes to. */
export interface KeyRepositories {
  tokens: TokenRepository;
  identities: IdentityRepository;
  audit: AuditRecorder;
}

/** How audit records name an operator who ran a command: `operator:<user>@<host>`. */
export function operatorActor(): string {
  return `operator:${userInfo().username}@${hostname()}`;
}

/**
 * Stores a new API key named `name` for `principalId` inside `tx` (for every project, never
 * expiring) and audits it as `actor`'s TokenService/CreateApiKey from `local`, the record the RPC
 * would have made.
 */
export async function storeAuditedKey(repositories: KeyRepositories, tx: EntityManager, principalId: string, name: string, actor: string): Promise<IssuedKey> {
  const { apiKey, secret } = await storeApiKey(repositories.tokens, tx, principalId, { name, projectIds: [], expiresAt: null });
  await repositories.audit.recordChangeIn(tx, {
    actor,
    action: 'create',
    method: 'trellis.governance.v1.TokenService/CreateApiKey',
    resource: resourceName(['apiKeys', apiKey.id]),
    projectId: '',
    requestId: randomUUID(),
    clientAddress: 'local',
  });
  return { principalId, apiKeyId: apiKey.id, secret };
}

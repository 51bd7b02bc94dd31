import { type AuditRecorder, resourceName } from '@trellis/platform';
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { EntityManager } from 'typeorm';
import { ensureServiceAccount } from '../identity/service-accounts';
import type { IdentityRepository } from '../identity/identity.repository';
import type { TokenRepository } from './token.repository';
import { storeApiKey } from './token.service';

/** A key issued to a platform service's own account. */
export interface IssuedServiceKey {
  principalId: string;
  apiKeyId: string;
  secret: string;
}

/**
 * Issues an API key to the service account of platform service `service` (made now if it has
 * none), inside `tx`, and audits it as `actor`'s. The key does not expire; revoking it
 * (TokenService/RevokeApiKey) and issuing another rotates it. Earlier keys keep working until revoked.
 */
export async function issueServiceKey(
  repositories: { tokens: TokenRepository; identities: IdentityRepository; audit: AuditRecorder },
  tx: EntityManager,
  service: string,
  actor: string,
): Promise<IssuedServiceKey> {
  const account = await ensureServiceAccount(repositories.identities, tx, service);
  const { apiKey, secret } = await storeApiKey(repositories.tokens, tx, account.id, { name: `${service} service credential`, projectIds: [], expiresAt: null });
  await repositories.audit.recordChangeIn(tx, {
    actor,
    action: 'create',
    method: 'trellis.governance.v1.TokenService/CreateApiKey',
    resource: resourceName(['apiKeys', apiKey.id]),
    projectId: '',
    requestId: randomUUID(),
    clientAddress: 'local',
  });
  return { principalId: account.id, apiKeyId: apiKey.id, secret };
}

/** Writes a key file readable by its owner only (its folder too), whole or not at all. */
export async function writeKeyFile(path: string, secret: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const staged = `${path}.${process.pid}.tmp`;
  await writeFile(staged, `${secret}\n`, { mode: 0o600 });
  await chmod(staged, 0o600);
  await rename(staged, path);
}

import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { EntityManager } from 'typeorm';
import { ensureServiceAccount } from '../identity/service-accounts';
import { type IssuedKey, type KeyRepositories, storeAuditedKey } from './operator-keys';

/**
 * Issues an API key to the service account of platform service `service` (made now if it has
 * none), inside `tx`, and audits it as `actor`'s. The key does not expire; revoking it
 * (TokenService/RevokeApiKey) and issuing another rotates it. Earlier keys keep working until revoked.
 */
export async function issueServiceKey(repositories: KeyRepositories, tx: EntityManager, service: string, actor: string): Promise<IssuedKey> {
  const account = await ensureServiceAccount(repositories.identities, tx, service);
  return storeAuditedKey(repositories, tx, account.id, `${service} service credential`, actor);
}

/** Writes a key file readable by its owner only (its folder too), whole or not at all. */
export async function writeKeyFile(path: string, secret: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const staged = `${path}.${process.pid}.tmp`;
  await writeFile(staged, `${secret}\n`, { mode: 0o600 });
  await chmod(staged, 0o600);
  await rename(staged, path);
}

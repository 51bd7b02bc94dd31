import { ConfigError } from '@trellis/platform';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { PrincipalEntity } from './identity.entity';
import { IdentityRepository } from './identity.repository';

/** The name of the service account governance makes for platform service `service`: `service-registry`. */
export function serviceAccountName(service: string): string {
  return `service-${service}`;
}

/**
 * The service account of platform service `service` in the first org, made now if it has none
 * (inside `tx`); a ConfigError, which an operator fixes, when it cannot. Only governance makes such accounts (at a standalone start, or an operator's
 * `npm run service-key`); CreatePrincipal cannot, since their tokens read every project of the org.
 */
export async function ensureServiceAccount(identities: IdentityRepository, tx: EntityManager, service: string): Promise<PrincipalEntity> {
  const org = await identities.firstOrg(tx);
  if (!org) throw new ConfigError('governance has no org yet: start Trellis once, and it creates the default org');
  const existing = await identities.serviceAccountForUpdate(tx, org.id, service);
  if (existing) return existing;
  const name = serviceAccountName(service);
  if (await identities.principalNamed(tx, org.id, name)) {
    throw new ConfigError(`a principal named ${name} already exists and is not the ${service} service's own account: rename it, then try again`);
  }
  return identities.insertPrincipal(tx, {
    id: randomUUID(),
    orgId: org.id,
    kind: 'service_account',
    name,
    displayName: `the ${service} service`,
    orgAdmin: false,
    createdAt: Date.now(),
    service,
  });
}

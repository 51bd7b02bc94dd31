import type { GatewayClient } from '@trellis/client';
import type { ListPrincipalsResponseJson } from '@trellis/proto/trellis/governance/v1/identity_service_pb';
import type { PrincipalJson } from '@trellis/proto/trellis/governance/v1/resources_pb';
import { CliError, EXIT } from '../exit-codes';
import { allPages } from './all-pages';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Every user and service account of the caller's org, by name (org admins only). */
export function listPrincipals(client: GatewayClient): Promise<PrincipalJson[]> {
  return allPages((pageToken) => client.call<ListPrincipalsResponseJson>('trellis.governance.v1.IdentityService/ListPrincipals', { pageSize: 1000, pageToken }), (page) => page.principals);
}

/**
 * A principal's id from its id (passed through, so callers who may not list principals can
 * still name themselves) or its name (looked up among the org's principals).
 */
export async function resolvePrincipal(client: GatewayClient, nameOrId: string): Promise<string> {
  if (UUID.test(nameOrId)) return nameOrId;
  const found = (await listPrincipals(client)).find((principal) => principal.name === nameOrId);
  if (!found?.id) throw new CliError(`no user or service account named "${nameOrId.slice(0, 64)}": \`trellis admin users list\` shows them`, EXIT.notFound);
  return found.id;
}

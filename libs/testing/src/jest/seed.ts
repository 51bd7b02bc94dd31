import { GatewayClient } from '@trellis/client';
import { uniqueTestName } from '../run-id';
import { sharedPlatform } from './standalone-global-setup';

/** A client of the shared platform as its admin (to seed data), or with another API key. */
export function platformClient(apiKey = sharedPlatform().adminKey): GatewayClient {
  return new GatewayClient({ url: sharedPlatform().gateway, credential: apiKey });
}

/** A name no other spec or run uses, as project and principal names allow (lowercase, digits, dashes, 63 at most). */
export function seedName(name: string): string {
  return uniqueTestName(name).toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 63);
}

/** A new project of the admin's on the shared platform. */
export async function seedProject(name: string): Promise<{ projectId: string; name: string }> {
  const projectName = seedName(name);
  const { project } = await platformClient().call<{ project: { id: string } }>('trellis.governance.v1.IdentityService/CreateProject', { name: projectName });
  return { projectId: project.id, name: projectName };
}

/** A new user with `role` in the project, and its API key (for what a viewer may not do). */
export async function seedUser(projectId: string, role: 'viewer' | 'editor' | 'admin', name: string): Promise<{ principalId: string; apiKey: string }> {
  const admin = platformClient();
  const { principal } = await admin.call<{ principal: { id: string } }>('trellis.governance.v1.IdentityService/CreatePrincipal', { kind: 'PRINCIPAL_KIND_USER', name: seedName(name) });
  await admin.call('trellis.governance.v1.IdentityService/SetRoleBinding', { binding: { projectId, principalId: principal.id, role: `ROLE_${role.toUpperCase()}` } });
  const { secret } = await admin.call<{ secret: string }>('trellis.governance.v1.TokenService/CreateApiKey', { principalId: principal.id, name: `${role}-key` });
  return { principalId: principal.id, apiKey: secret };
}

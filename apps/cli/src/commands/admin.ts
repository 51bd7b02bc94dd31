import { GatewayRequestError, type GatewayClient } from '@trellis/client';
import type { CreatePrincipalResponseJson, ListProjectsResponseJson, ListRoleBindingsResponseJson } from '@trellis/proto/trellis/governance/v1/identity_service_pb';
import type { ApiKeyJson, PrincipalJson, ProjectJson, RoleBindingJson } from '@trellis/proto/trellis/governance/v1/resources_pb';
import type { CreateApiKeyResponseJson, ListApiKeysResponseJson, RevokeApiKeyResponseJson } from '@trellis/proto/trellis/governance/v1/token_service_pb';
import type { Command } from 'commander';
import type { CliContext } from '../context';
import { allPages } from '../governance/all-pages';
import { listPrincipals, resolvePrincipal } from '../governance/principals';
import { parseTimeFromNow } from '../governance/time-args';
import type { CommandGroup } from '../command-group';
import { roleName } from './projects';

/** `trellis admin`: users and service accounts, API keys, and who holds which role where. */
export const registerAdmin: CommandGroup = (program, context) => {
  const admin = program.command('admin').description('users, service accounts, API keys and role bindings (org admins; anyone may manage their own keys)');
  registerPrincipals(admin, context, 'users', 'PRINCIPAL_KIND_USER');
  registerPrincipals(admin, context, 'service-accounts', 'PRINCIPAL_KIND_SERVICE_ACCOUNT');
  registerKeys(admin, context);
  registerRoles(admin, context);
};

type Kind = 'PRINCIPAL_KIND_USER' | 'PRINCIPAL_KIND_SERVICE_ACCOUNT';

/** `admin users` or `admin service-accounts`: list and create principals of one kind. */
function registerPrincipals(admin: Command, context: () => CliContext, group: string, kind: Kind): void {
  const user = kind === 'PRINCIPAL_KIND_USER';
  const noun = user ? 'user' : 'service account';
  const principals = admin.command(group).description(`the org's ${noun}s (org admins)`);
  principals
    .command('list')
    .description(`list the org's ${noun}s`)
    .addHelpText('after', `\nExample:\n  trellis admin ${group} list -o json`)
    .action(async () => {
      const ctx = context();
      const rows = (await listPrincipals(ctx.client())).filter((principal) => principal.kind === kind);
      ctx.output.table(rows, [
        { header: 'name', value: (principal: PrincipalJson) => principal.name },
        { header: 'id', value: (principal) => principal.id },
        { header: 'display name', value: (principal) => principal.displayName },
        user ? { header: 'org admin', value: (principal) => (principal.orgAdmin ? 'yes' : '') } : { header: 'platform service', value: (principal) => principal.service },
        { header: 'created', value: (principal) => principal.createTime },
      ]);
    });
  const create = principals
    .command('create <name>')
    .description(`create a ${noun} (1 to 63 lowercase letters, digits and dashes); then give it a role with \`trellis members set\` and a key with \`trellis admin keys create\``)
    .option('--display-name <text>', 'the name people see');
  if (user) create.option('--org-admin', 'make it an org admin (every project of the org, and this command group)');
  create
    .addHelpText('after', user ? '\nExample:\n  trellis admin users create ada --display-name "Ada Lovelace"' : '\nExample:\n  trellis admin service-accounts create nightly-retrain --display-name "Nightly retraining"')
    .action(async (name: string, options: { displayName?: string; orgAdmin?: boolean }) => {
      const ctx = context();
      const { principal } = await ctx.client().call<CreatePrincipalResponseJson>('trellis.governance.v1.IdentityService/CreatePrincipal', { kind, name, displayName: options.displayName ?? '', orgAdmin: options.orgAdmin ?? false });
      ctx.output.done(`Created ${noun} ${principal?.name} (${principal?.id}).`, principal);
    });
}

/** `admin keys`: a principal's API keys, listed, created (the secret shown once) and revoked. */
function registerKeys(admin: Command, context: () => CliContext): void {
  const keys = admin.command('keys').description('API keys: your own, or (org admins) any principal\'s');
  keys
    .command('list')
    .description("list a principal's API keys (default: yours), oldest first, without secrets")
    .option('--principal <name-or-id>', 'whose keys (default: yours)')
    .addHelpText('after', '\nExamples:\n  trellis admin keys list\n  trellis admin keys list --principal nightly-retrain')
    .action(async (options: { principal?: string }) => {
      const ctx = context();
      const principalId = options.principal ? await resolvePrincipal(ctx.client(), options.principal) : '';
      const rows = await listApiKeys(ctx.client(), principalId);
      ctx.output.table(rows, [
        { header: 'id', value: (key: ApiKeyJson) => key.id },
        { header: 'name', value: (key) => key.name },
        { header: 'state', value: (key) => keyState(key) },
        { header: 'projects', value: (key) => (key.projectIds?.length ? key.projectIds.join(',') : 'all') },
        { header: 'created', value: (key) => key.createTime },
        { header: 'expires', value: (key) => key.expireTime ?? 'never' },
        { header: 'last used', value: (key) => key.lastUsedTime },
      ]);
    });
  keys
    .command('create')
    .description('create an API key and print its secret, once, on standard output (Trellis keeps only its hash)')
    .option('--principal <name-or-id>', 'who the key acts as (default: you)')
    .option('--name <text>', 'what the key is for, to tell keys apart', '')
    .option('--for-project <project...>', 'limit the key to these projects (names or ids); default: every project of its principal')
    .option('--expires-in <duration>', 'make it stop working after this long (12h, 90d); default: never')
    .addHelpText('after', '\nExamples:\n  trellis admin keys create --principal nightly-retrain --name ci --for-project churn > ci.key\n  trellis admin keys create --name laptop --expires-in 90d')
    .action(async (options: { principal?: string; name: string; forProject?: string[]; expiresIn?: string }) => {
      const ctx = context();
      const expireTime = options.expiresIn ? parseTimeFromNow(options.expiresIn, '--expires-in') : undefined;
      const principalId = options.principal ? await resolvePrincipal(ctx.client(), options.principal) : '';
      const projectIds = await Promise.all((options.forProject ?? []).map((project) => ctx.resolveProject(project)));
      const created = await ctx.client().call<CreateApiKeyResponseJson>('trellis.governance.v1.TokenService/CreateApiKey', { principalId, name: options.name, projectIds, expireTime });
      if (ctx.output.format === 'json') return ctx.output.json(created);
      process.stderr.write(`Created API key ${created.apiKey?.id} for ${created.apiKey?.principalId}. Store the secret below now: it is shown only this once.\n`);
      ctx.output.line(created.secret ?? '');
    });
  keys
    .command('revoke <key-id>')
    .description('revoke an API key: it is refused at once, and its tokens within seconds')
    .addHelpText('after', '\nExample:\n  trellis admin keys revoke 0123456789abcdef')
    .action(async (keyId: string) => {
      const ctx = context();
      const { apiKey } = await ctx.client().call<RevokeApiKeyResponseJson>('trellis.governance.v1.TokenService/RevokeApiKey', { apiKeyId: keyId });
      ctx.output.done(`Revoked API key ${apiKey?.id}${apiKey?.name ? ` (${apiKey.name})` : ''} of ${apiKey?.principalId}.`, apiKey);
    });
}

/**
 * `admin roles list`: role bindings across every project the caller may read, or one principal's
 * roles everywhere. Changing a role is `trellis members set|remove`, one project at a time.
 */
function registerRoles(admin: Command, context: () => CliContext): void {
  const roles = admin.command('roles').description('who holds which role in which project, across projects (change one with `trellis members set|remove`)');
  roles
    .command('list')
    .description('list role bindings in every project you may read, or in --project; --principal shows one principal\'s projects')
    .option('--principal <name-or-id>', 'only this user or service account')
    .addHelpText('after', '\nExamples:\n  trellis admin roles list --principal ada\n  trellis admin roles list --project churn -o json')
    .action(async (options: { principal?: string }) => {
      const ctx = context();
      const client = ctx.client();
      const principalId = options.principal ? await resolvePrincipal(client, options.principal) : undefined;
      const projects = ctx.options.project ? [{ id: await ctx.resolveProject(ctx.options.project) }] : await listProjects(client);
      const names = await principalNames(client);
      const rows: Array<{ projectId: string; project: string; principalId: string; principal: string; role: string }> = [];
      for (const project of projects) {
        for (const binding of await listRoleBindings(client, project.id ?? '')) {
          if (principalId && binding.principalId !== principalId) continue;
          rows.push({ projectId: project.id ?? '', project: project.name ?? '', principalId: binding.principalId ?? '', principal: names.get(binding.principalId ?? '') ?? '', role: roleName(binding.role) });
        }
      }
      ctx.output.table(rows, [
        { header: 'project', value: (row) => row.project || row.projectId },
        { header: 'principal', value: (row) => row.principal },
        { header: 'principal id', value: (row) => row.principalId },
        { header: 'role', value: (row) => row.role },
      ]);
    });
}

function listApiKeys(client: GatewayClient, principalId: string): Promise<ApiKeyJson[]> {
  return allPages((pageToken) => client.call<ListApiKeysResponseJson>('trellis.governance.v1.TokenService/ListApiKeys', { principalId, pageSize: 1000, pageToken }), (page) => page.apiKeys);
}

function listProjects(client: GatewayClient): Promise<ProjectJson[]> {
  return allPages((pageToken) => client.call<ListProjectsResponseJson>('trellis.governance.v1.IdentityService/ListProjects', { pageSize: 1000, pageToken }), (page) => page.projects);
}

function listRoleBindings(client: GatewayClient, projectId: string): Promise<RoleBindingJson[]> {
  return allPages((pageToken) => client.call<ListRoleBindingsResponseJson>('trellis.governance.v1.IdentityService/ListRoleBindings', { projectId, pageSize: 1000, pageToken }), (page) => page.bindings);
}

/** Principal ids to names, for org admins; an empty map for callers who may not list principals. */
async function principalNames(client: GatewayClient): Promise<Map<string, string>> {
  try {
    return new Map((await listPrincipals(client)).map((principal) => [principal.id ?? '', principal.name ?? '']));
  } catch (error) {
    if (error instanceof GatewayRequestError && error.status === 'PERMISSION_DENIED') return new Map();
    throw error;
  }
}

/** active, revoked or expired. */
function keyState(key: ApiKeyJson): string {
  if (key.revokeTime) return 'revoked';
  if (key.expireTime && Date.parse(key.expireTime) <= Date.now()) return 'expired';
  return 'active';
}

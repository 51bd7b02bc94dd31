import type {
  CreateProjectResponseJson,
  GetProjectResponseJson,
  ListProjectsResponseJson,
  ListRoleBindingsResponseJson,
  SetRoleBindingResponseJson,
} from '@trellis/proto/trellis/governance/v1/identity_service_pb';
import type { RoleBindingJson } from '@trellis/proto/trellis/governance/v1/resources_pb';
import { Option } from 'commander';
import { readConfig, writeConfig } from '../config-store';
import { CliError, EXIT } from '../exit-codes';
import type { CommandGroup } from '../command-group';

const ROLES = ['viewer', 'editor', 'admin', 'owner'];

/** `trellis projects` and `trellis members`: where work lives, and who may do what there. */
export const registerProjects: CommandGroup = (program, context) => {
  const projects = program.command('projects').description('projects you may read, and the default project of your profile');
  projects
    .command('list')
    .description('list the projects you may read')
    .action(async () => {
      const ctx = context();
      const { projects: rows = [] } = await ctx.client().call<ListProjectsResponseJson>('trellis.governance.v1.IdentityService/ListProjects', { pageSize: 1000 });
      ctx.output.table(rows, [
        { header: 'name', value: (project) => project.name },
        { header: 'id', value: (project) => project.id },
        { header: 'description', value: (project) => project.description },
        { header: 'created', value: (project) => project.createTime },
      ]);
    });
  projects
    .command('create <name>')
    .description('create a project (you become its owner)')
    .option('-d, --description <text>', 'what the project is for')
    .addHelpText('after', '\nExample:\n  trellis projects create churn --description "customer churn models"')
    .action(async (name: string, options: { description?: string }) => {
      const ctx = context();
      const { project } = await ctx.client().call<CreateProjectResponseJson>('trellis.governance.v1.IdentityService/CreateProject', { name, description: options.description ?? '' });
      ctx.output.done(`Created project ${project?.name} (${project?.id}).`, project);
    });
  projects
    .command('show [name]')
    .description('show a project (default: the one in use)')
    .action(async (name?: string) => {
      const ctx = context();
      const projectId = name ? await ctx.resolveProject(name) : await ctx.projectId();
      const { project = {} } = await ctx.client().call<GetProjectResponseJson>('trellis.governance.v1.IdentityService/GetProject', { projectId });
      ctx.output.fields(
        [
          ['name', project.name],
          ['id', project.id],
          ['description', project.description],
          ['encrypted at rest', project.encryptAtRest ?? false],
          ['created', project.createTime],
        ],
        project,
      );
    });
  projects
    .command('use <name>')
    .description("make a project the profile's default (commands then need no --project)")
    .action(async (name: string) => {
      const ctx = context();
      const projectId = await ctx.resolveProject(name);
      const config = readConfig();
      const profile = config.profiles[ctx.profileName];
      if (!profile) throw new CliError(`no profile "${ctx.profileName}": run \`trellis login\` first`, EXIT.unauthenticated);
      profile.project = name;
      writeConfig(config);
      ctx.output.done(`Commands now act in project ${name} (${projectId}).`, { profile: ctx.profileName, project: name, projectId });
    });

  const members = program.command('members').description("the project's members and their roles");
  members
    .command('list')
    .description("list the project's members")
    .action(async () => {
      const ctx = context();
      const projectId = await ctx.projectId();
      const { bindings = [] } = await ctx.client().call<ListRoleBindingsResponseJson>('trellis.governance.v1.IdentityService/ListRoleBindings', { projectId, pageSize: 1000 });
      ctx.output.table(bindings, [
        { header: 'principal', value: (binding: RoleBindingJson) => binding.principalId },
        { header: 'role', value: (binding: RoleBindingJson) => roleName(binding.role) },
      ]);
    });
  members
    .command('set <principal-id>')
    .description('give a user or service account a role in the project (replacing its role there)')
    .addOption(new Option('-r, --role <role>', 'the role').choices(ROLES).makeOptionMandatory())
    .addHelpText('after', '\nExample:\n  trellis members set 3f2a... --role editor --project churn')
    .action(async (principalId: string, options: { role: string }) => {
      const ctx = context();
      const projectId = await ctx.projectId();
      const { binding } = await ctx.client().call<SetRoleBindingResponseJson>('trellis.governance.v1.IdentityService/SetRoleBinding', {
        binding: { projectId, principalId, role: `ROLE_${options.role.toUpperCase()}` },
      });
      ctx.output.done(`${principalId} is now ${options.role} of the project.`, binding);
    });
  members
    .command('remove <principal-id>')
    .description('remove a member from the project')
    .action(async (principalId: string) => {
      const ctx = context();
      const projectId = await ctx.projectId();
      await ctx.client().call('trellis.governance.v1.IdentityService/DeleteRoleBinding', { projectId, principalId });
      ctx.output.done(`${principalId} is no longer a member of the project.`, { projectId, principalId });
    });
};

/** ROLE_EDITOR -> editor. */
export function roleName(role: string | undefined): string {
  return (role ?? '').replace(/^ROLE_/, '').toLowerCase();
}

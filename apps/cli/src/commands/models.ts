import { GatewayRequestError } from '@trellis/client';
import type { ApproveResponseJson, ListApprovalsResponseJson, RejectResponseJson } from '@trellis/proto/trellis/governance/v1/approval_service_pb';
import type { ApprovalJson } from '@trellis/proto/trellis/governance/v1/resources_pb';
import type {
  CreateVersionResponseJson,
  DeleteAliasResponseJson,
  GetModelResponseJson,
  ListAliasHistoryResponseJson,
  SearchModelsResponseJson,
  SearchVersionsResponseJson,
  SetAliasResponseJson,
} from '@trellis/proto/trellis/registry/v1/registry_service_pb';
import type { AliasChangeJson, ModelVersionJson, RegisteredModelJson } from '@trellis/proto/trellis/registry/v1/resources_pb';
import { Option } from 'commander';
import type { CliContext } from '../context';
import { CliError, EXIT } from '../exit-codes';
import type { CommandGroup } from '../command-group';
import { aliasApprovalWanted, pendingApprovalFor } from '../registry/alias-approval';
import { waitForVersion } from '../registry/wait-version';
import { versionChain } from '../registry/version-lineage';
import { positiveInteger } from '../tracking/arguments';

const APPROVAL_STATES = ['pending', 'approved', 'rejected', 'all'];

/** `trellis models`: register versions, move aliases, and their history. */
export const registerModels: CommandGroup = (program, context) => {
  const models = program.command('models').description('registered models: versions, aliases and their history, lineage, approvals');
  models
    .command('list')
    .description("list the project's registered models")
    .addHelpText('after', '\nExample:\n  trellis models list --project churn')
    .action(async () => {
      const ctx = context();
      const projectId = await ctx.projectId();
      const rows: RegisteredModelJson[] = [];
      let pageToken = '';
      do {
        const page = await ctx.client().call<SearchModelsResponseJson>('trellis.registry.v1.RegistryService/SearchModels', { projectIds: [projectId], pageSize: 1000, pageToken });
        rows.push(...(page.models ?? []));
        pageToken = page.nextPageToken ?? '';
      } while (pageToken);
      ctx.output.table(rows, [
        { header: 'name', value: (model) => model.name },
        { header: 'latest', value: (model) => model.latestVersion ?? '0' },
        { header: 'aliases', value: (model) => aliasList(model) },
        { header: 'updated', value: (model) => model.updateTime },
      ]);
    });
  models
    .command('show <name>')
    .description('show a model: its aliases, protected aliases and versions')
    .addHelpText('after', '\nExample:\n  trellis models show churn')
    .action(async (name: string) => {
      const ctx = context();
      const projectId = await ctx.projectId();
      const { model = {} } = await ctx.client().call<GetModelResponseJson>('trellis.registry.v1.RegistryService/GetModel', { projectId, modelName: name });
      const versions = await versionsOf(ctx, projectId, name);
      if (ctx.output.format === 'json') return ctx.output.json({ model, versions });
      ctx.output.fields([
        ['name', model.name],
        ['description', model.description],
        ['aliases', aliasList(model)],
        ['protected aliases', (model.protectedAliases ?? []).join(', ')],
        ['latest version', model.latestVersion ?? '0'],
        ['created', model.createTime],
        ['updated', model.updateTime],
      ]);
      ctx.output.line('');
      ctx.output.line('Versions:');
      ctx.output.table(versions, [
        { header: 'version', value: (version) => version.version },
        { header: 'status', value: (version) => statusOf(version) },
        { header: 'format', value: (version) => version.format },
        { header: 'run', value: (version) => version.runId },
        { header: 'aliases', value: (version) => (version.aliases ?? []).join(', ') },
        { header: 'created', value: (version) => version.createTime },
      ]);
    });
  models
    .command('register <name>')
    .description('register a new version of a model (creating the model if needed) and wait until its files are copied')
    .requiredOption('-s, --source <uri>', 'where the files are: runs:/<run-id>/<path>, models:/<name>/<version>, or a URI')
    .option('--run-id <id>', 'the run that produced it (taken from a runs:/ source when not given)')
    .option('--format <format>', 'the model format, e.g. onnx (serving needs it unless the files say)')
    .option('-d, --description <text>', 'what this version is')
    .option('--no-wait', 'answer at once, while the version is still PENDING')
    .addHelpText('after', '\nExamples:\n  trellis models register churn --source runs:/5f0c6a1e.../model --format onnx\n  trellis models register churn --source runs:/5f0c6a1e.../model --no-wait -o json')
    .action(async (name: string, options: { source: string; runId?: string; format?: string; description?: string; wait: boolean }) => {
      const ctx = context();
      const projectId = await ctx.projectId();
      const client = ctx.client();
      try {
        await client.call('trellis.registry.v1.RegistryService/GetModel', { projectId, modelName: name });
      } catch (error) {
        if (!(error instanceof GatewayRequestError && error.status === 'NOT_FOUND')) throw error;
        await client.call('trellis.registry.v1.RegistryService/CreateModel', { projectId, name });
      }
      const { version: created = {} } = await client.call<CreateVersionResponseJson>('trellis.registry.v1.RegistryService/CreateVersion', {
        projectId,
        modelName: name,
        source: options.source,
        runId: options.runId ?? '',
        format: options.format ?? '',
        description: options.description ?? '',
      });
      const number = Number(created.version);
      const version = options.wait && created.status === 'MODEL_VERSION_STATUS_PENDING' ? await waitForVersion(client, projectId, name, number) : created;
      if (version.status === 'MODEL_VERSION_STATUS_FAILED') {
        if (ctx.output.format === 'json') ctx.output.json(version);
        throw new CliError(`version ${number} of ${name} failed: ${version.statusMessage}\nFix the source and register again.`, EXIT.failed);
      }
      ctx.output.done(`Registered ${name} version ${number} (${statusOf(version)}).`, version);
    });
  models
    .command('alias <name> <alias> [version]')
    .description('point an alias at a version, or delete it; a protected alias needs an approval, which this requests for you')
    .option('--delete', 'delete the alias instead')
    .option('--approval <id>', 'the approved approval for this change (protected aliases)')
    .addHelpText(
      'after',
      '\nExamples:\n  trellis models alias churn champion 3\n  trellis models alias churn champion --delete\n  trellis models alias churn champion 3 --approval 7b1e...   # a protected alias, once approved',
    )
    .action(async (name: string, alias: string, versionArgument: string | undefined, options: { delete?: boolean; approval?: string }) => {
      if (options.delete && versionArgument !== undefined) throw new CliError('give a version to move the alias, or --delete to remove it, not both', EXIT.usage);
      if (!options.delete && versionArgument === undefined) throw new CliError('which version? `trellis models alias <name> <alias> <version>` (or --delete)', EXIT.usage);
      const version = versionArgument === undefined ? undefined : positiveInteger(versionArgument, 'version');
      const ctx = context();
      const projectId = await ctx.projectId();
      const approvalId = options.approval ?? '';
      try {
        if (version === undefined) {
          const { change } = await ctx.client().call<DeleteAliasResponseJson>('trellis.registry.v1.RegistryService/DeleteAlias', { projectId, modelName: name, alias, approvalId });
          return ctx.output.done(`Deleted alias ${alias} of ${name} (it pointed at version ${change?.fromVersion}).`, change);
        }
        const { change } = await ctx.client().call<SetAliasResponseJson>('trellis.registry.v1.RegistryService/SetAlias', { projectId, modelName: name, alias, version, approvalId });
        const from = change?.fromVersion && change.fromVersion !== '0' ? ` (was version ${change.fromVersion})` : '';
        return ctx.output.done(`${name}@${alias} now points at version ${version}${from}.`, change);
      } catch (error) {
        if (!(error instanceof GatewayRequestError && error.reason === 'APPROVAL_REQUIRED')) throw error;
        const approval = await pendingApprovalFor(ctx.client(), projectId, aliasApprovalWanted(projectId, name, alias, version));
        if (ctx.output.format === 'json') ctx.output.json({ approvalRequired: true, approval });
        const change = version === undefined ? 'delete it' : `point it at version ${version}`;
        throw new CliError(
          `alias ${alias} of ${name} is protected: approval ${approval.id} to ${change} is waiting for a decision.\n` +
            `Someone other than you approves it with \`trellis models approve ${approval.id}\`; then run this command again with --approval ${approval.id}.`,
          EXIT.conflict,
        );
      }
    });
  models
    .command('history <name>')
    .description("a model's alias changes as a timeline, newest first: when, which version, who")
    .option('-a, --alias <alias>', 'only this alias')
    .addHelpText('after', '\nExample:\n  trellis models history churn --alias champion')
    .action(async (name: string, options: { alias?: string }) => {
      const ctx = context();
      const projectId = await ctx.projectId();
      const changes: AliasChangeJson[] = [];
      let pageToken = '';
      do {
        const page = await ctx.client().call<ListAliasHistoryResponseJson>('trellis.registry.v1.RegistryService/ListAliasHistory', {
          projectId,
          modelName: name,
          alias: options.alias ?? '',
          pageSize: 1000,
          pageToken,
        });
        changes.push(...(page.changes ?? []));
        pageToken = page.nextPageToken ?? '';
      } while (pageToken);
      ctx.output.table(changes, [
        { header: 'when', value: (change) => change.changeTime },
        { header: 'alias', value: (change) => change.alias },
        { header: 'change', value: (change) => describeChange(change) },
        { header: 'by', value: (change) => change.actorId },
        { header: 'approval', value: (change) => change.approvalId },
      ]);
    });
  models
    .command('lineage <name> <version>')
    .description('where a version came from and where it serves: dataset versions -> run -> version -> endpoints')
    .addHelpText('after', '\nExample:\n  trellis models lineage churn 3')
    .action(async (name: string, versionArgument: string) => {
      const version = positiveInteger(versionArgument, 'version');
      const ctx = context();
      const projectId = await ctx.projectId();
      const chain = await versionChain(ctx.client(), projectId, name, version);
      if (ctx.output.format === 'json') return ctx.output.json(chain);
      const { lineage, datasetVersions, endpoints } = chain;
      const lines = [
        ...datasetVersions.map((node) => `dataset version  ${node.name}`),
        ...(lineage.datasets ?? [])
          .filter((dataset) => datasetVersions.length === 0 || !dataset.source?.startsWith('datasets:/'))
          .map((dataset) => `dataset          ${dataset.name} (${dataset.source})${dataset.context ? ` [${dataset.context}]` : ''}`),
        lineage.runId ? `run              ${lineage.runId}${lineage.runName ? ` (${lineage.runName})` : ''}, experiment ${lineage.experimentId}` : 'run              (none: the version was not made from a run)',
        `version          ${name} v${version} (${statusOf(lineage.version ?? {})})`,
        ...(endpoints.length ? endpoints.map((endpoint) => `endpoint         ${endpoint.name} (${endpoint.id}), ${endpoint.percent}% of its traffic`) : ['endpoint         (none serves it)']),
      ];
      lines.forEach((line, index) => ctx.output.line(index === 0 ? line : `-> ${line}`));
    });
  models
    .command('approvals')
    .description("the project's approval requests (protected alias changes), pending ones by default")
    .addOption(new Option('--state <state>', 'which requests').choices(APPROVAL_STATES).default('pending'))
    .addHelpText('after', '\nExample:\n  trellis models approvals --state all')
    .action(async (options: { state: string }) => {
      const ctx = context();
      const projectId = await ctx.projectId();
      const rows: ApprovalJson[] = [];
      let pageToken = '';
      do {
        const page = await ctx.client().call<ListApprovalsResponseJson>('trellis.governance.v1.ApprovalService/ListApprovals', {
          projectId,
          state: options.state === 'all' ? 'APPROVAL_STATE_UNSPECIFIED' : `APPROVAL_STATE_${options.state.toUpperCase()}`,
          pageSize: 1000,
          pageToken,
        });
        rows.push(...(page.approvals ?? []));
        pageToken = page.nextPageToken ?? '';
      } while (pageToken);
      ctx.output.table(rows, [
        { header: 'id', value: (approval) => approval.id },
        { header: 'state', value: (approval) => stateOf(approval) },
        { header: 'action', value: (approval) => approval.action },
        { header: 'resource', value: (approval) => approval.resource },
        { header: 'details', value: (approval) => Object.entries(approval.details ?? {}).map(([key, value]) => `${key}=${value}`).join(' ') },
        { header: 'requester', value: (approval) => approval.requesterId },
        { header: 'requested', value: (approval) => approval.createTime },
      ]);
    });
  for (const [verb, method, past] of [
    ['approve', 'Approve', 'Approved'],
    ['reject', 'Reject', 'Rejected'],
  ] as const) {
    models
      .command(`${verb} <approval-id>`)
      .description(verb === 'approve' ? "approve someone else's request" : 'reject a request, or withdraw your own')
      .option('-c, --comment <text>', 'a note for the requester')
      .addHelpText('after', `\nExample:\n  trellis models ${verb} 7b1e... --comment "${verb === 'approve' ? 'checked the eval report' : 'eval regressed on segment B'}"`)
      .action(async (approvalId: string, options: { comment?: string }) => {
        const ctx = context();
        const { approval = {} } = await ctx.client().call<ApproveResponseJson | RejectResponseJson>(`trellis.governance.v1.ApprovalService/${method}`, { approvalId, comment: options.comment ?? '' });
        const next = verb === 'approve' && approval.action === 'registry.alias.set' ? ` The requester can now run the change with --approval ${approval.id}.` : '';
        ctx.output.done(`${past} ${approval.id}: ${approval.action} of ${approval.resource}.${next}`, approval);
      });
  }
};

/** Every version of a model, newest first (SearchVersions matches names as a LIKE pattern, so exact names are kept here). */
async function versionsOf(ctx: CliContext, projectId: string, name: string): Promise<ModelVersionJson[]> {
  const versions: ModelVersionJson[] = [];
  let pageToken = '';
  do {
    const page = await ctx.client().call<SearchVersionsResponseJson>('trellis.registry.v1.RegistryService/SearchVersions', { projectIds: [projectId], nameLike: name, pageSize: 1000, pageToken });
    versions.push(...(page.versions ?? []).filter((version) => version.modelName === name));
    pageToken = page.nextPageToken ?? '';
  } while (pageToken);
  return versions;
}

/** champion=3, staging=4. */
function aliasList(model: RegisteredModelJson): string {
  return (model.aliases ?? []).map((pointer) => `${pointer.alias}=${pointer.version}`).join(', ');
}

/** MODEL_VERSION_STATUS_READY -> ready, with the failure's message. */
function statusOf(version: ModelVersionJson): string {
  const status = (version.status ?? '').replace(/^MODEL_VERSION_STATUS_/, '').toLowerCase();
  return version.status === 'MODEL_VERSION_STATUS_FAILED' && version.statusMessage ? `${status}: ${version.statusMessage}` : status;
}

/** APPROVAL_STATE_PENDING -> pending. */
function stateOf(approval: ApprovalJson): string {
  return (approval.state ?? '').replace(/^APPROVAL_STATE_/, '').toLowerCase();
}

/** One history entry in words: "set to v1", "v1 -> v2", "deleted (was v2)". */
function describeChange(change: AliasChangeJson): string {
  const from = change.fromVersion && change.fromVersion !== '0' ? change.fromVersion : undefined;
  const to = change.toVersion && change.toVersion !== '0' ? change.toVersion : undefined;
  if (!to) return `deleted (was v${from})`;
  return from ? `v${from} -> v${to}` : `set to v${to}`;
}

import type { AuditFilterJson, ExportAuditRecordsResponseJson, VerifyAuditChainResponseJson } from '@trellis/proto/trellis/governance/v1/audit_service_pb';
import type { AuditRecordJson } from '@trellis/proto/trellis/governance/v1/resources_pb';
import { Option } from 'commander';
import { CliError, EXIT } from '../exit-codes';
import { AUDIT_ACTIONS, searchAuditRecords } from '../governance/audit-query';
import { parseTimeArg } from '../governance/time-args';
import { verdictText } from '../governance/audit-verdict';
import { writeJsonLines } from '../governance/json-lines-file';
import type { CliContext } from '../context';
import type { CommandGroup } from '../command-group';

interface FilterOptions {
  actor?: string;
  action?: string;
  method?: string;
  resource?: string;
  since?: string;
  until?: string;
}

/** `trellis audit`: list, verify and export the hash-chained audit log. */
export const registerAudit: CommandGroup = (program, context) => {
  const audit = program.command('audit').description('the audit log: who changed what, and who was refused (project admins read their projects\', org admins all)');
  const withFilters = (command: ReturnType<typeof audit.command>) =>
    command
      .option('--actor <principal-id>', 'records of this principal')
      .addOption(new Option('--action <action>', 'records of calls that needed this permission').choices(AUDIT_ACTIONS))
      .option('--method <method>', "records of this gRPC method: its name (SetRoleBinding), of any service, or a full one (trellis.governance.v1.IdentityService/SetRoleBinding)")
      .option('--resource <name>', 'records of this resource, or of every resource under a prefix ending in * (projects/<id>/models/*)')
      .option('--since <time>', 'records from this time on: RFC 3339, a date, or an age (15m, 2h, 7d)')
      .option('--until <time>', 'records before this time (as --since)');

  withFilters(audit.command('list'))
    .description('list audit records, oldest first, of every project whose log you may read, or of --project')
    .option('--limit <n>', 'at most this many records', parseLimit, 100)
    .addHelpText('after', '\nExamples:\n  trellis audit list --project churn --since 1d --action delete\n  trellis audit list --actor 3f2a... --method RevokeApiKey -o json')
    .action(async (options: FilterOptions & { limit: number }) => {
      const ctx = context();
      const filter = await filterOf(ctx, options);
      const { records, more } = await searchAuditRecords(ctx.client(), filter, options.limit);
      ctx.output.table(records, [
        { header: 'seq', value: (record: AuditRecordJson) => record.sequence },
        { header: 'time', value: (record) => record.event?.eventTime },
        { header: 'actor', value: (record) => record.event?.actor || '(unauthenticated)' },
        { header: 'action', value: (record) => record.event?.action },
        { header: 'method', value: (record) => (record.event?.method ?? '').replace(/^trellis\./, '') },
        { header: 'resource', value: (record) => record.event?.resource },
        { header: 'outcome', value: (record) => outcomeName(record.event?.outcome) },
      ]);
      if (more) process.stderr.write(`More records may match: raise --limit (now ${options.limit}) or narrow with --since.\n`);
    });

  audit
    .command('verify')
    .description('recompute the whole hash chain and check its signed checkpoints (org admins); exits 9 when the chain is broken')
    .addHelpText('after', '\nExample:\n  trellis audit verify || echo "the audit log was tampered with"')
    .action(async () => {
      const ctx = context();
      const verdict = await ctx.client().call<VerifyAuditChainResponseJson>('trellis.governance.v1.AuditService/VerifyAuditChain', {});
      ctx.output.done(verdictText(verdict), verdict);
      if (!verdict.intact) process.exitCode = EXIT.checkFailed;
    });

  withFilters(audit.command('export'))
    .description('export audit records (with the signed checkpoints among them) as JSON Lines, to --out or standard output; of every project whose log you may read, or of --project')
    .option('--out <file>', 'write to this file (written whole, or not at all) instead of standard output')
    .addHelpText('after', '\nExamples:\n  trellis audit export --out audit.jsonl\n  trellis audit export --project churn --since 30d | jq -c \'select(.event.action == "delete")\'')
    .action(async (options: FilterOptions & { out?: string }) => {
      const ctx = context();
      const filter = await filterOf(ctx, options);
      const lines = (async function* () {
        for await (const message of ctx.client().stream<ExportAuditRecordsResponseJson>('trellis.governance.v1.AuditService/ExportAuditRecords', { filter })) yield message.line ?? '';
      })();
      const count = await writeJsonLines(lines, options.out);
      if (options.out) process.stderr.write(`Exported ${count} lines to ${options.out}.\n`);
    });
};

/** The AuditFilter of a command's options; only an explicit --project (not the profile's) narrows it to one project. */
async function filterOf(ctx: CliContext, options: FilterOptions): Promise<AuditFilterJson> {
  const filter: AuditFilterJson = {};
  if (ctx.options.project) filter.projectId = await ctx.resolveProject(ctx.options.project);
  if (options.actor) filter.actor = options.actor;
  if (options.action) filter.action = options.action;
  if (options.method) filter.method = options.method;
  if (options.resource) filter.resource = options.resource;
  if (options.since) filter.startTime = parseTimeArg(options.since, '--since');
  if (options.until) filter.endTime = parseTimeArg(options.until, '--until');
  return filter;
}

function parseLimit(value: string): number {
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new CliError(`--limit "${value.slice(0, 20)}" must be a whole number from 1 to 100000`, EXIT.usage);
  return limit;
}

/** OUTCOME_DENIED -> denied. */
function outcomeName(outcome: string | undefined): string {
  return (outcome ?? '').replace(/^OUTCOME_/, '').toLowerCase();
}

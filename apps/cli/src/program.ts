import { Command, Option } from 'commander';
import { registerAdmin } from './commands/admin';
import { registerAudit } from './commands/audit';
import { registerCompletion } from './commands/completion';
import { registerDatasets } from './commands/datasets';
import { registerJobs } from './commands/jobs';
import { registerLogin } from './commands/login';
import { registerModels } from './commands/models';
import { registerMonitors } from './commands/monitors';
import { registerProjects } from './commands/projects';
import { registerRuns } from './commands/runs';
import { registerServing } from './commands/serving';
import type { CommandGroup } from './command-group';
import { CliContext, type GlobalOptions } from './context';

/** Every group of commands, in the order `trellis --help` lists them. */
const GROUPS: readonly CommandGroup[] = [
  registerLogin,
  registerProjects,
  registerRuns,
  registerDatasets,
  registerJobs,
  registerModels,
  registerServing,
  registerMonitors,
  registerAudit,
  registerAdmin,
  registerCompletion,
];

/** The `trellis` program: global options, then each group's commands. */
export function createProgram(env: NodeJS.ProcessEnv = process.env): Command {
  const program = new Command('trellis')
    .description('Drive a Trellis ML platform from the terminal: projects, runs, datasets, jobs, models, endpoints, monitors and audit.')
    .version(VERSION)
    .addOption(new Option('--profile <name>', 'saved installation to use (trellis login --profile)').env('TRELLIS_PROFILE'))
    .addOption(new Option('--url <url>', "the gateway's URL (overrides the profile's)").env('TRELLIS_URL'))
    .addOption(new Option('--api-key <key>', 'API key (overrides the profile\'s)').env('TRELLIS_API_KEY'))
    .addOption(new Option('-p, --project <name>', 'project to act in, by name or id (default: the profile\'s)').env('TRELLIS_PROJECT'))
    .addOption(new Option('-o, --output <format>', 'table for people, json for scripts').choices(['table', 'json']).default('table'))
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .showSuggestionAfterError(true)
    .addHelpText('after', '\nExamples:\n  trellis login --url http://127.0.0.1:8080 --api-key trellis_...\n  trellis projects list\n  trellis runs list --experiment churn -o json\n\nEach command has --help with examples. Exit codes: docs/cli.md.');
  let context: CliContext | undefined;
  const contextOf = () => (context ??= new CliContext(program.opts<GlobalOptions>(), env));
  for (const group of GROUPS) group(program, contextOf);
  return program;
}

const VERSION: string = (require('../package.json') as { version: string }).version;

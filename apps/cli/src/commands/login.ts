import { GatewayClient, GatewayRequestError, tokenClaims } from '@trellis/client';
import type { ExchangeApiKeyResponseJson } from '@trellis/proto/trellis/governance/v1/token_service_pb';
import { configPath, readConfig, writeConfig } from '../config-store';
import { CliError, EXIT } from '../exit-codes';
import type { CommandGroup } from '../command-group';

/** Where `npm start` serves the gateway. */
const DEFAULT_URL = 'http://127.0.0.1:8080';

/** `trellis login`, `logout`, `whoami` and `profiles`: which installation, as whom. */
export const registerLogin: CommandGroup = (program, context) => {
  program
    .command('login')
    .description('check an API key against a gateway (--url, default http://127.0.0.1:8080) and save both as a profile (file mode 0600); the key comes from --api-key, else standard input')
    .addHelpText('after', '\nExamples:\n  trellis login --url http://127.0.0.1:8080 --api-key trellis_...\n  echo "$KEY" | trellis login --url https://trellis.example.com --profile prod')
    .action(async () => {
      const ctx = context();
      const url = ctx.options.url ?? DEFAULT_URL;
      const apiKey = (ctx.options.apiKey ?? (await readStdin())).trim();
      if (!apiKey) throw new CliError('no API key: pass --api-key, set TRELLIS_API_KEY, or pipe it in', EXIT.usage);
      const gateway = new GatewayClient({ url });
      let claims;
      try {
        const { token } = await gateway.call<ExchangeApiKeyResponseJson>('trellis.governance.v1.TokenService/ExchangeApiKey', { apiKey });
        claims = tokenClaims(token ?? '');
      } catch (error) {
        if (error instanceof GatewayRequestError && error.status === 'UNAUTHENTICATED') throw new CliError(`the gateway at ${url} refused this API key: ${error.message}`, EXIT.unauthenticated);
        throw error;
      }
      const name = ctx.profileName;
      const config = readConfig();
      config.profiles[name] = { ...config.profiles[name], url, apiKey };
      config.current = name;
      writeConfig(config);
      ctx.output.done(`Signed in to ${url} as ${claims.subject} (profile "${name}", saved in ${configPath()}).`, { profile: name, url, principalId: claims.subject, orgAdmin: claims.orgAdmin });
    });

  program
    .command('logout')
    .description("forget the profile's API key")
    .action(() => {
      const ctx = context();
      const config = readConfig();
      const name = ctx.profileName;
      if (!config.profiles[name]) throw new CliError(`no profile "${name}"`, EXIT.notFound);
      delete config.profiles[name];
      writeConfig(config);
      ctx.output.done(`Forgot profile "${name}".`, { profile: name });
    });

  program
    .command('whoami')
    .description('who the API key signs in as, and its role in each project')
    .action(async () => {
      const ctx = context();
      const { apiKey } = ctx.credentials();
      const { token } = await ctx.client().call<ExchangeApiKeyResponseJson>('trellis.governance.v1.TokenService/ExchangeApiKey', { apiKey });
      const claims = tokenClaims(token ?? '');
      ctx.output.fields(
        [
          ['principal', claims.subject],
          ['kind', claims.kind],
          ['org admin', claims.orgAdmin],
          ['projects', claims.bindings.map((binding) => `${binding.projectId} (${binding.role})`).join(', ')],
          ['gateway', ctx.client().url],
        ],
        claims,
      );
    });

  const profiles = program.command('profiles').description('saved installations (trellis login --profile <name> adds one)');
  profiles
    .command('list')
    .description('list the saved profiles')
    .action(() => {
      const ctx = context();
      const config = readConfig();
      const rows = Object.entries(config.profiles).map(([name, profile]) => ({ name, url: profile.url, project: profile.project ?? '', current: name === config.current }));
      ctx.output.table(rows, [
        { header: 'current', value: (row) => (row.current ? '*' : '') },
        { header: 'name', value: (row) => row.name },
        { header: 'url', value: (row) => row.url },
        { header: 'project', value: (row) => row.project },
      ]);
    });
  profiles
    .command('use <name>')
    .description('make a saved profile the one commands use')
    .action((name: string) => {
      const ctx = context();
      const config = readConfig();
      if (!config.profiles[name]) throw new CliError(`no profile "${name}": \`trellis profiles list\` shows them`, EXIT.notFound);
      config.current = name;
      writeConfig(config);
      ctx.output.done(`Using profile "${name}" (${config.profiles[name].url}).`, { profile: name });
    });
};

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text;
}

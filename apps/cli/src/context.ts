import { GatewayClient } from '@trellis/client';
import type { ListProjectsResponseJson } from '@trellis/proto/trellis/governance/v1/identity_service_pb';
import { configPath, readConfig, type Profile } from './config-store';
import { CliError, EXIT } from './exit-codes';
import { Output, type OutputFormat } from './output';

/** The options every command takes (program.ts declares them). */
export interface GlobalOptions {
  profile?: string;
  url?: string;
  apiKey?: string;
  project?: string;
  output: OutputFormat;
}

/** What a command works with: its gateway client, its output, and the project it acts in. */
export class CliContext {
  readonly output: Output;
  private gateway?: GatewayClient;
  private readonly projectIds = new Map<string, string>();

  constructor(
    readonly options: GlobalOptions,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.output = new Output(options.output);
  }

  /** The profile in use: `--profile`, else TRELLIS_PROFILE, else the one `trellis login` made current. */
  get profileName(): string {
    return this.options.profile ?? this.env.TRELLIS_PROFILE ?? readConfig(configPath(this.env)).current;
  }

  /** The saved profile in use, if there is one. */
  get profile(): Profile | undefined {
    return readConfig(configPath(this.env)).profiles[this.profileName];
  }

  /** The gateway's URL and the API key: the flags' (or the environment's, which they default to), else the profile's. */
  credentials(): { url: string; apiKey: string } {
    const profile = this.profile;
    const url = this.options.url || profile?.url;
    const apiKey = this.options.apiKey || profile?.apiKey;
    if (!url || !apiKey) {
      throw new CliError(`not signed in (profile "${this.profileName}"): run \`trellis login --url <gateway URL> --api-key <key>\`, or set TRELLIS_URL and TRELLIS_API_KEY`, EXIT.unauthenticated);
    }
    return { url, apiKey };
  }

  /** The gateway, with the credentials() of this invocation. */
  client(): GatewayClient {
    if (this.gateway) return this.gateway;
    const { url, apiKey } = this.credentials();
    this.gateway = new GatewayClient({ url, credential: apiKey });
    return this.gateway;
  }

  /**
   * The id of the project to act in: `--project` (a name or an id), else TRELLIS_PROJECT, else
   * the profile's. Names are looked up among the projects the caller may read.
   */
  async projectId(): Promise<string> {
    const named = this.options.project ?? this.profile?.project;
    if (!named) throw new CliError('no project: pass --project <name or id>, set TRELLIS_PROJECT, or `trellis projects use <name>`', EXIT.usage);
    return this.resolveProject(named);
  }

  /** A project's id from its name or id. */
  async resolveProject(nameOrId: string): Promise<string> {
    const known = this.projectIds.get(nameOrId);
    if (known) return known;
    let pageToken = '';
    do {
      const page = await this.client().call<ListProjectsResponseJson>('trellis.governance.v1.IdentityService/ListProjects', { pageSize: 1000, pageToken });
      const found = page.projects?.find((project) => project.name === nameOrId || project.id === nameOrId);
      if (found?.id) {
        this.projectIds.set(nameOrId, found.id);
        return found.id;
      }
      pageToken = page.nextPageToken ?? '';
    } while (pageToken);
    throw new CliError(`no project "${nameOrId.slice(0, 64)}" that you may read: \`trellis projects list\` shows yours`, EXIT.notFound);
  }
}

import { ExperimentServiceDesc, IdentityServiceDesc } from '@trellis/proto';
import type { RequestClients } from '../route-host';
import type { RequestContext } from '../http/request-context';
import { MlflowFields } from './mlflow-fields';
import { DEFAULT_PROJECT, type ProjectResolver } from './project-resolver';

/** MLflow's id of the experiment clients use when they name none. */
export const DEFAULT_EXPERIMENT_ID = '0';
/** The experiment "0" stands for: each project's, which tracking creates on first use. */
const DEFAULT_EXPERIMENT_NAME = 'Default';

/** What the MLflow routes of one gateway share. */
export interface MlflowShared {
  projects: ProjectResolver;
  /** Project id -> id of its Default experiment. Safe to share: every call made with it is checked upstream. */
  defaultExperiments: Map<string, string>;
}

const MAX_DEFAULT_EXPERIMENTS = 10_000;

/** One MLflow request: its context, the caller's upstream clients, and the project it addresses. */
export class MlflowCall {
  constructor(
    readonly ctx: RequestContext,
    readonly rpc: RequestClients,
    private readonly shared: MlflowShared,
  ) {}

  /** The request's fields: the JSON body, or the query string of a GET. */
  fields(): Promise<MlflowFields> {
    return MlflowFields.of(this.ctx);
  }

  /** The project named by the tracking URI (`.../projects/<name>`), `default` when it names none. */
  get projectName(): string {
    return this.ctx.params.project ?? DEFAULT_PROJECT;
  }

  /** The id of the project the request addresses, as the caller sees it (404 when the caller cannot). */
  projectId(): Promise<string> {
    return this.projectIdOf(this.projectName);
  }

  /** The id of the project named `name`, as the caller sees it (404 when the caller cannot). */
  projectIdOf(name: string): Promise<string> {
    return this.shared.projects.idOf(this.rpc.options.token, name, (pageToken) =>
      this.rpc.of(IdentityServiceDesc).listProjects({ pageSize: 1000, pageToken }, this.rpc.options),
    );
  }

  /** An experiment id from the request, "0" standing for the project's Default experiment. */
  async experimentId(id: string): Promise<string> {
    if (id !== DEFAULT_EXPERIMENT_ID) return id;
    const projectId = await this.projectId();
    const known = this.shared.defaultExperiments.get(projectId);
    if (known) return known;
    const { experiment } = await this.rpc.of(ExperimentServiceDesc).getExperimentByName({ projectId, name: DEFAULT_EXPERIMENT_NAME }, this.rpc.options);
    const experimentId = experiment?.id ?? '';
    if (this.shared.defaultExperiments.size >= MAX_DEFAULT_EXPERIMENTS) this.shared.defaultExperiments.clear();
    this.shared.defaultExperiments.set(projectId, experimentId);
    return experimentId;
  }
}

/** A route of MLflow's REST API, relative to `/api/2.0` (or `/ajax-api/2.0`). */
export interface MlflowRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  /** Answers with the JSON it returns, or (`streams`) writes the response itself. */
  handle(call: MlflowCall): Promise<unknown>;
  /** The handler writes the response itself (streamed bodies). */
  streams?: boolean;
  /** Largest body the route reads (default: the gateway's). */
  maxBodyBytes?: number;
}

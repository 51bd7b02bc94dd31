const TIMEOUT_MS = 30_000;

/** What Ray's `POST /api/jobs/` takes (JobSubmitRequest); every field is checked by Ray's dataclass. */
export interface RaySubmitRequest {
  entrypoint: string;
  submission_id: string;
  runtime_env: { env_vars: Record<string, string>; image_uri?: string };
  metadata: Record<string, string>;
  entrypoint_num_cpus: number;
  entrypoint_num_gpus: number;
  /** Bytes, an integer. */
  entrypoint_memory: number;
  entrypoint_resources?: Record<string, number>;
}

/** Ray's job states: PENDING and RUNNING move on, the others are final. */
export type RayJobStatus = 'PENDING' | 'RUNNING' | 'STOPPED' | 'SUCCEEDED' | 'FAILED';

/** The fields of Ray's JobDetails that the plugin reads. */
export interface RayJobDetails {
  type: 'SUBMISSION' | 'DRIVER';
  submission_id: string | null;
  status: RayJobStatus;
  message?: string | null;
  /** Milliseconds since the epoch: the submission (Ray records no separate start of the entrypoint). */
  start_time?: number | null;
  end_time?: number | null;
  metadata?: Record<string, string> | null;
  runtime_env?: { env_vars?: Record<string, string> } | null;
  /** The entrypoint's exit code (Ray 2.9 and later; a negative one is the signal that ended it). */
  driver_exit_code?: number | null;
}

/** A node as the state API (`GET /api/v0/nodes`) reports it. */
export interface RayNode {
  state: string;
  /** `CPU`, `GPU`, `memory` (bytes), `accelerator_type:<type>`, and custom resources. */
  resources_total: Record<string, number>;
}

/** Ray answered with an error, or could not be reached; the message says which. */
export class RayError extends Error {
  override readonly name = 'RayError';
}

/** Ray already has a job with the submission id (a submission with the same idempotency key came first). */
export class DuplicateSubmissionError extends RayError {}

interface Answer {
  status: number;
  text: string;
}

/**
 * Ray's Jobs REST API on the dashboard (`/api/jobs/`), and the state API's node list. Ray answers
 * errors as plain text (a Python traceback): the last line, the exception, is what a message keeps.
 */
export class RayJobsClient {
  constructor(
    private readonly url: string,
    private readonly authToken?: string,
  ) {}

  async submit(request: RaySubmitRequest): Promise<string> {
    const answer = await this.request('POST', '/api/jobs/', request);
    // Ray 2.x answers a duplicate with 400 from the job agent, which older heads pass on and newer ones wrap in a 500.
    if (/submission_id \S+ already exists/.test(answer.text)) throw new DuplicateSubmissionError(`Ray already has a job ${request.submission_id}`);
    const body = this.json(answer, 'POST /api/jobs/') as { submission_id?: unknown };
    if (typeof body.submission_id !== 'string') throw new RayError('Ray accepted the job but returned no submission_id');
    return body.submission_id;
  }

  /** The job with submission id `id`, or undefined when Ray has none. */
  async job(id: string): Promise<RayJobDetails | undefined> {
    const answer = await this.request('GET', `/api/jobs/${encodeURIComponent(id)}`);
    return answer.status === 404 ? undefined : (this.json(answer, 'GET /api/jobs/<id>') as RayJobDetails);
  }

  async jobs(): Promise<RayJobDetails[]> {
    const list = this.json(await this.request('GET', '/api/jobs/'), 'GET /api/jobs/');
    if (!Array.isArray(list)) throw new RayError('Ray answered GET /api/jobs/ with something other than a list');
    return list as RayJobDetails[];
  }

  /** Everything the job's entrypoint has written (stdout and stderr together), or undefined for an unknown job. */
  async logs(id: string): Promise<string | undefined> {
    const answer = await this.request('GET', `/api/jobs/${encodeURIComponent(id)}/logs`);
    if (answer.status === 404) return undefined;
    const { logs } = this.json(answer, 'GET /api/jobs/<id>/logs') as { logs?: unknown };
    return typeof logs === 'string' ? logs : '';
  }

  /** Stops the job; false when Ray had nothing to stop (it was final), undefined for an unknown job. */
  async stop(id: string): Promise<boolean | undefined> {
    const answer = await this.request('POST', `/api/jobs/${encodeURIComponent(id)}/stop`);
    if (answer.status === 404) return undefined;
    return (this.json(answer, 'POST /api/jobs/<id>/stop') as { stopped?: unknown }).stopped === true;
  }

  /** The cluster's nodes, or undefined where the dashboard does not serve the state API. */
  async nodes(): Promise<RayNode[] | undefined> {
    const answer = await this.request('GET', '/api/v0/nodes');
    if (answer.status === 404) return undefined;
    const body = this.json(answer, 'GET /api/v0/nodes') as { result?: boolean; msg?: string; data?: { result?: { result?: unknown } } };
    const nodes = body.data?.result?.result;
    if (body.result === false || !Array.isArray(nodes)) throw new RayError(`Ray's state API did not list the nodes: ${body.msg ?? 'no list in the answer'}`);
    return nodes as RayNode[];
  }

  async version(): Promise<string> {
    const body = this.json(await this.request('GET', '/api/version'), 'GET /api/version') as { ray_version?: unknown };
    return String(body.ray_version);
  }

  private async request(method: string, path: string, body?: unknown): Promise<Answer> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        headers: {
          ...(this.authToken ? { Authorization: `Bearer ${this.authToken}` } : {}),
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      throw new RayError(`the Ray dashboard at ${this.url} cannot be reached: ${(error as Error).message}`, { cause: error });
    }
    const text = await response.text();
    if (response.status === 401 || response.status === 403) throw new RayError(`Ray refused ${method} ${path} (HTTP ${response.status}): check authToken against the cluster's RAY_AUTH_TOKEN`);
    return { status: response.status, text };
  }

  /** The answer's JSON; an error answer becomes a RayError with the exception Ray reported. */
  private json(answer: Answer, what: string): unknown {
    if (answer.status < 200 || answer.status >= 300) throw new RayError(`Ray refused ${what} (HTTP ${answer.status}): ${lastLine(answer.text)}`);
    try {
      return JSON.parse(answer.text);
    } catch {
      throw new RayError(`Ray answered ${what} with no JSON: ${answer.text.slice(0, 200)}`);
    }
  }
}

/** The last non-empty line of a traceback: the exception and its message. */
function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return (lines[lines.length - 1] ?? '').slice(0, 500) || '(no message)';
}

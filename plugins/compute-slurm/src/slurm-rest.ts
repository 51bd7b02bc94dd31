import { createHmac } from 'node:crypto';
import { type SlurmClient, SlurmError, type SlurmJob, type SlurmNode, type SlurmSubmission, errorsOf, readJob, readNode, recordsOf } from './slurm-client';

const API = '/slurm/v0.0.38';
const TOKEN_LIFESPAN_S = 600;
const TIMEOUT_MS = 30_000;
/** slurmrestd 22.05 reports a token slurmctld refuses (wrong key, unknown user) only as this. */
const REFUSED_TOKEN_HINT = ' (slurmrestd says so when slurmctld refuses the token: check that jwtKey is its jwt_key and userName a user it knows)';
/** slurm_load_job's "Invalid job id specified". */
const INVALID_JOB_ID = 2017;

/**
 * Slurm through slurmrestd 22.05 (OpenAPI v0.0.38, `rest_auth/jwt`). Tokens are minted here as
 * slurmctld's `auth/jwt` expects them: HS256 over its `jwt_key`, claims `{exp, iat, sun}`. Jobs run as
 * `userName`. Bodies are strings, so they go with a Content-Length: slurmrestd cannot read chunked ones.
 */
export class SlurmRest implements SlurmClient {
  private token?: { value: string; renewAt: number };

  constructor(
    private readonly url: string,
    private readonly userName: string,
    private readonly jwtKey: string,
  ) {}

  async submit(submission: SlurmSubmission): Promise<string> {
    const job: Record<string, unknown> = {
      name: submission.name,
      comment: submission.comment,
      current_working_directory: submission.workDir,
      standard_output: submission.output,
      requeue: false,
      environment: submission.environment,
      tasks: submission.tasks,
      cpus_per_task: submission.cpusPerTask,
      memory_per_cpu: submission.memoryPerCpuMiB,
    };
    if (submission.gpusPerTask) job['gpus_per_task'] = submission.gpusPerTask;
    for (const option of ['partition', 'account', 'qos'] as const) if (submission[option]) job[option] = submission[option];
    const answer = await this.request('POST', '/job/submit', { script: submission.script, job });
    if (typeof answer['job_id'] !== 'number') throw new SlurmError('slurmrestd accepted the job but returned no job_id');
    return String(answer['job_id']);
  }

  async job(id: string): Promise<SlurmJob | undefined> {
    const answer = await this.request('GET', `/job/${id}`, undefined, INVALID_JOB_ID);
    const [record] = recordsOf(answer, 'jobs');
    return record ? readJob(record) : undefined;
  }

  async jobs(): Promise<SlurmJob[]> {
    return recordsOf(await this.request('GET', '/jobs'), 'jobs').map(readJob);
  }

  async comments(): Promise<{ id: string; comment: string }[]> {
    return (await this.jobs()).map(({ id, comment }) => ({ id, comment }));
  }

  async cancel(id: string): Promise<void> {
    await this.request('DELETE', `/job/${id}`);
  }

  async nodes(): Promise<SlurmNode[]> {
    return recordsOf(await this.request('GET', '/nodes'), 'nodes').map(readNode);
  }

  async ping(): Promise<void> {
    const pings = recordsOf(await this.request('GET', '/ping'), 'pings');
    if (!pings.some((ping) => ping['ping'] === 'UP')) throw new SlurmError(`slurmctld does not answer slurmrestd: ${JSON.stringify(pings)}`);
  }

  /** Sends one request; Slurm's `errors[]` become a SlurmError, except the one numbered `tolerated`. */
  private async request(method: string, path: string, body?: unknown, tolerated?: number): Promise<Record<string, unknown>> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let response: Response;
    try {
      response = await fetch(`${this.url}${API}${path}`, {
        method,
        headers: {
          'X-SLURM-USER-NAME': this.userName,
          'X-SLURM-USER-TOKEN': this.currentToken(),
          ...(payload === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        // A string body goes with its Content-Length (fetch streams only stream bodies).
        body: payload,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      throw new SlurmError(`slurmrestd at ${this.url} cannot be reached: ${(error as Error).message}`, { cause: error });
    }
    const raw = await response.text();
    if (response.status === 401 || response.status === 403) {
      throw new SlurmError(`slurmrestd refused the token for user ${this.userName} (HTTP ${response.status}): check jwtKey against slurmctld's jwt_key, and userName`);
    }
    let answer: Record<string, unknown>;
    try {
      answer = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      throw new SlurmError(`slurmrestd answered ${method} ${path} with HTTP ${response.status} and no JSON: ${raw.slice(0, 200)}`);
    }
    const errors = recordsOf(answer, 'errors').filter((error) => tolerated === undefined || error['error_number'] !== tolerated);
    const said = errorsOf({ errors });
    if (said) throw new SlurmError(`Slurm refused ${method} ${path}: ${said}${said.startsWith('Unspecified error') ? REFUSED_TOKEN_HINT : ''}`);
    if (!response.ok && tolerated === undefined) throw new SlurmError(`slurmrestd answered ${method} ${path} with HTTP ${response.status}`);
    return answer;
  }

  private currentToken(): string {
    const now = Math.floor(Date.now() / 1000);
    if (!this.token || now >= this.token.renewAt) {
      this.token = { value: mintToken(this.jwtKey, this.userName, now, TOKEN_LIFESPAN_S), renewAt: now + TOKEN_LIFESPAN_S / 2 };
    }
    return this.token.value;
  }
}

/** A token slurmctld's auth/jwt accepts for `user`. */
export function mintToken(key: string, user: string, now: number, lifespanS: number): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ exp: now + lifespanS, iat: now, sun: user })}`;
  return `${unsigned}.${createHmac('sha256', key).update(unsigned).digest('base64url')}`;
}

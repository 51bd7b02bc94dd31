// A fake Ray dashboard for specs: the Jobs REST API (`/api/jobs/`), `/api/version` and the state
// API's `/api/v0/nodes`, with the request and response shapes of Ray 2.x's job_head.py and
// JobSubmitRequest. Ray cannot run here; this runs each entrypoint as a local `sh -c` process group
// with the runtime_env's env_vars, so logs, exit codes and stop are real. A Python entrypoint can
// `import ray` (test/ray-library: tasks as threads of the driver, placement groups that reserve
// nothing). A request the real API would refuse gets the real status and plain-text traceback, and
// is recorded in `rejected`: the specs assert that list is empty.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/** What `startFakeRay` may be told. */
export interface FakeRayOptions {
  /**
   * The cluster's resources in Ray's names (`CPU`, `GPU`, `memory` in bytes, `accelerator_type:<type>`,
   * custom ones); default 4 CPUs and 8 GiB. A job whose entrypoint resources do not fit in what
   * running jobs leave stays PENDING.
   */
  resources?: Record<string, number>;
  /** Token auth (`RAY_AUTH_MODE=token`): requests without `Authorization: Bearer <token>` get 401. */
  authToken?: string;
  /** Whether the dashboard serves the state API's `/api/v0/nodes` (default true; older or proxied dashboards do not). */
  servesNodes?: boolean;
  /** Variables every entrypoint gets besides its env_vars (as the raylet's own environment would give). */
  env?: Record<string, string>;
}

/** A running fake dashboard. */
export interface FakeRay {
  /** `http://127.0.0.1:<port>`: the plugin's `address`. */
  url: string;
  /** Requests the real API would refuse, or that it does not serve, as `METHOD path: why`. */
  readonly rejected: string[];
  /** The bodies of the submissions Ray accepted, as sent. */
  readonly submitted: Record<string, unknown>[];
  /** Submissions refused because their submission_id was taken (a race of two submits, which the plugin handles). */
  readonly duplicates: string[];
  /** How many requests each `METHOD path` got (ids kept). */
  readonly requests: string[];
  /** Kills the entrypoints still running, then closes the server. */
  close(): Promise<void>;
}

type Status = 'PENDING' | 'RUNNING' | 'STOPPED' | 'SUCCEEDED' | 'FAILED';

interface FakeJob {
  details: Record<string, unknown> & { submission_id: string; status: Status };
  /** What the entrypoint reserves while it runs, in Ray's resource names. */
  needs: Record<string, number>;
  env: Record<string, string>;
  logs: string;
  process?: ChildProcess;
  stopping?: boolean;
}

/** JobSubmitRequest's fields (`job_id` is its deprecated alias of submission_id). */
const SUBMIT_FIELDS = new Set(['entrypoint', 'submission_id', 'job_id', 'runtime_env', 'metadata', 'entrypoint_num_cpus', 'entrypoint_num_gpus', 'entrypoint_memory', 'entrypoint_resources']);
/** runtime_env fields Ray knows; another one names a plugin Ray does not have. */
const RUNTIME_ENV_FIELDS = new Set(['working_dir', 'py_modules', 'py_executable', 'pip', 'conda', 'uv', 'env_vars', 'container', 'image_uri', 'config', 'excludes', 'java_jars', 'nsight', 'mpi']);
const STOP_WAIT_MS = 3_000;
/** A Python `ray` package for the entrypoints, as a Ray node has: the calls the gang driver makes, tasks as threads. */
const RAY_LIBRARY = join(__dirname, 'ray-library');
const GIB = 2 ** 30;

/** Starts the fake on 127.0.0.1 and a free port. */
export async function startFakeRay(options: FakeRayOptions = {}): Promise<FakeRay> {
  const resources = options.resources ?? { CPU: 4, memory: 8 * GIB };
  const jobs = new Map<string, FakeJob>();
  const rejected: string[] = [];
  const submitted: Record<string, unknown>[] = [];
  const duplicates: string[] = [];
  const requests: string[] = [];
  const nodeId = randomBytes(28).toString('hex');
  let driverCount = 0;

  const free = (): Record<string, number> => {
    const left = { ...resources };
    for (const job of jobs.values()) if (job.details.status === 'RUNNING') for (const [name, amount] of Object.entries(job.needs)) left[name] = (left[name] ?? 0) - amount;
    return left;
  };

  const schedule = () => {
    for (const job of jobs.values()) {
      if (job.details.status !== 'PENDING' || job.stopping) continue;
      const left = free();
      if (Object.entries(job.needs).every(([name, amount]) => amount <= (left[name] ?? 0))) start(job);
    }
  };

  const start = (job: FakeJob) => {
    driverCount += 1;
    Object.assign(job.details, { status: 'RUNNING', message: 'Job is currently running.', job_id: driverCount.toString(16).padStart(2, '0').padEnd(8, '0'), driver_node_id: nodeId });
    const child = spawn('sh', ['-c', String(job.details['entrypoint'])], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PYTHONPATH: RAY_LIBRARY, ...options.env, ...job.env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    job.process = child;
    // Ray's driver log holds both streams.
    child.stdout?.on('data', (chunk: Buffer) => (job.logs += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (job.logs += chunk.toString('utf8')));
    child.on('error', (error) => job.process === child && finish(job, 127, null, error.message));
    child.on('close', (code, signal) => finish(job, code, signal));
  };

  const finish = (job: FakeJob, code: number | null, signal: NodeJS.Signals | null, error?: string) => {
    if (!['PENDING', 'RUNNING'].includes(job.details.status)) return;
    job.process = undefined;
    const exitCode = code ?? -(signalNumber(signal) ?? 9);
    const end = { end_time: Date.now(), driver_exit_code: exitCode };
    if (job.stopping) Object.assign(job.details, end, { status: 'STOPPED', message: 'Job was intentionally stopped.' });
    else if (exitCode === 0) Object.assign(job.details, end, { status: 'SUCCEEDED', message: 'Job finished successfully.' });
    else {
      const tail = error ?? job.logs.slice(-20_000);
      Object.assign(job.details, end, {
        status: 'FAILED',
        error_type: 'JOB_ENTRYPOINT_COMMAND_ERROR',
        message: `Job entrypoint command failed with exit code ${exitCode}, last available logs (truncated to 20,000 chars):\n${tail}`,
      });
    }
    schedule();
  };

  const submit = (body: unknown): { status: number; text: string } => {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return refuse(500, `TypeError: ray.dashboard.modules.job.common.JobSubmitRequest() argument after ** must be a mapping, not ${pyType(body)}`);
    // Ray drops null fields first, so that newer clients work with older servers.
    const request = Object.fromEntries(Object.entries(body).filter(([, value]) => value !== null));
    const unknown = Object.keys(request).find((key) => !SUBMIT_FIELDS.has(key));
    if (unknown) return refuse(400, `TypeError: JobSubmitRequest.__init__() got an unexpected keyword argument '${unknown}'`);
    if (!('entrypoint' in request)) return refuse(400, "TypeError: JobSubmitRequest.__init__() missing 1 required positional argument: 'entrypoint'");
    const wrong = submitTypeError(request);
    if (wrong) return refuse(400, `TypeError: ${wrong}`);
    const runtimeEnv = (request['runtime_env'] ?? {}) as Record<string, unknown>;
    const envProblem = runtimeEnvError(runtimeEnv);
    // The head hands the submission to a job agent; an agent's refusal comes back wrapped in a 500.
    if (envProblem) return refuse(500, agentRefusal(envProblem));
    const submissionId = String(request['submission_id'] ?? request['job_id'] ?? `raysubmit_${randomBytes(8).toString('hex')}`);
    if (jobs.has(submissionId)) {
      duplicates.push(submissionId);
      return { status: 500, text: traceback(agentRefusal(`ValueError: Job with submission_id ${submissionId} already exists. Please use a different submission_id.`)) };
    }
    const num = (key: string) => (typeof request[key] === 'number' ? (request[key] as number) : 0);
    const needs: Record<string, number> = { CPU: num('entrypoint_num_cpus'), GPU: num('entrypoint_num_gpus'), memory: num('entrypoint_memory'), ...((request['entrypoint_resources'] as Record<string, number>) ?? {}) };
    submitted.push(body as Record<string, unknown>);
    jobs.set(submissionId, {
      details: {
        type: 'SUBMISSION',
        job_id: null,
        submission_id: submissionId,
        driver_info: null,
        status: 'PENDING',
        entrypoint: request['entrypoint'],
        message: 'Job has not started yet. It may be waiting for resources (CPUs, GPUs, memory, custom resources) to become available. It may be waiting for the runtime environment to be set up.',
        error_type: null,
        start_time: Date.now(),
        end_time: null,
        metadata: request['metadata'] ?? {},
        runtime_env: runtimeEnv,
        driver_agent_http_address: 'http://127.0.0.1:52365',
        driver_node_id: null,
        driver_exit_code: null,
        entrypoint_num_cpus: request['entrypoint_num_cpus'] ?? null,
        entrypoint_num_gpus: request['entrypoint_num_gpus'] ?? null,
        entrypoint_memory: request['entrypoint_memory'] ?? null,
        entrypoint_resources: request['entrypoint_resources'] ?? null,
      },
      needs,
      env: (runtimeEnv['env_vars'] as Record<string, string>) ?? {},
      logs: '',
    });
    schedule();
    return json({ job_id: submissionId, submission_id: submissionId });
  };

  const stop = (job: FakeJob) => {
    if (!['PENDING', 'RUNNING'].includes(job.details.status)) return json({ stopped: false });
    job.stopping = true;
    if (!job.process?.pid) {
      finish(job, null, 'SIGTERM');
      return json({ stopped: true });
    }
    // Ray sends SIGTERM to the entrypoint's process group, and SIGKILL after RAY_JOB_STOP_WAIT_TIME_S.
    const pid = job.process.pid;
    signalGroup(pid, 'SIGTERM');
    setTimeout(() => job.process?.pid === pid && signalGroup(pid, 'SIGKILL'), STOP_WAIT_MS).unref();
    return json({ stopped: true });
  };

  /** Records a refusal of the real API and answers it as Ray does: the status and a traceback. */
  let current = '';
  const refuse = (status: number, exception: string) => {
    rejected.push(`${current}: ${exception}`);
    return { status, text: traceback(exception) };
  };

  const route = (method: string, path: string, body: unknown): { status: number; text: string; type?: string } => {
    if (method === 'GET' && path === '/api/version') return json({ version: '4', ray_version: '2.40.0', ray_commit: 'fake', session_name: `session_${nodeId.slice(0, 8)}` });
    if (method === 'GET' && path === '/api/v0/nodes' && options.servesNodes !== false) {
      const node = { node_id: nodeId, node_ip: '127.0.0.1', is_head_node: true, state: 'ALIVE', state_message: null, node_name: '127.0.0.1', resources_total: { ...resources, object_store_memory: GIB, 'node:127.0.0.1': 1, 'node:__internal_head__': 1 }, labels: { 'ray.io/node_id': nodeId } };
      return json({ result: true, msg: '', data: { result: { total: 1, num_after_truncation: 1, num_filtered: 1, result: [node], partial_failure_warning: '', warnings: null } } });
    }
    if (method === 'POST' && path === '/api/jobs/') return submit(body);
    if (method === 'GET' && path === '/api/jobs/') return json([...jobs.values()].map((job) => job.details));
    const match = /^\/api\/jobs\/([^/]+)(\/logs|\/stop)?$/.exec(path);
    if (match) {
      const id = decodeURIComponent(match[1]);
      const job = jobs.get(id) ?? [...jobs.values()].find((candidate) => candidate.details['job_id'] === id);
      const known = (method === 'GET' && match[2] !== '/stop') || (method === 'POST' && match[2] === '/stop') || (method === 'DELETE' && !match[2]);
      if (known && !job) return { status: 404, text: `Job ${id} does not exist` };
      if (job && method === 'GET' && !match[2]) return json(job.details);
      if (job && method === 'GET' && match[2] === '/logs') return json({ logs: job.logs });
      if (job && method === 'POST') return stop(job);
      if (job && method === 'DELETE') {
        if (!['STOPPED', 'SUCCEEDED', 'FAILED'].includes(job.details.status)) return refuse(500, agentRefusal(`RuntimeError: Attempted to delete job with submission_id ${id}, but it is in a non-terminal state ${job.details.status}.`));
        jobs.delete(id);
        return json({ deleted: true });
      }
    }
    return refuse(404, `the dashboard serves no ${method} ${path}`);
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0];
      current = `${req.method} ${path}`;
      requests.push(current);
      let answer: { status: number; text: string; type?: string };
      if (options.authToken && req.headers.authorization !== `Bearer ${options.authToken}`) answer = refuse(401, 'Unauthorized: missing or invalid authentication token');
      else if (req.method === 'POST' && path === '/api/jobs/' && !(req.headers['content-type'] ?? '').startsWith('application/json')) answer = refuse(500, 'json.decoder.JSONDecodeError: the body is not sent as application/json');
      else {
        let body: unknown;
        const raw = Buffer.concat(chunks).toString('utf8');
        try {
          body = raw ? JSON.parse(raw) : undefined;
          answer = route(req.method ?? 'GET', path, body);
        } catch {
          answer = refuse(500, 'json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)');
        }
      }
      res.writeHead(answer.status, { 'Content-Type': answer.type ?? 'text/plain; charset=utf-8' });
      res.end(answer.text);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    rejected,
    submitted,
    duplicates,
    requests,
    async close() {
      const exits: Promise<unknown>[] = [];
      for (const job of jobs.values()) {
        if (!job.process?.pid) continue;
        exits.push(once(job.process, 'close'));
        job.stopping = true;
        signalGroup(job.process.pid, 'SIGKILL');
      }
      await Promise.all(exits);
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

function json(value: unknown): { status: number; text: string; type: string } {
  return { status: 200, text: JSON.stringify(value), type: 'application/json' };
}

/** The head's 500 for a refusal of the job agent, as Ray 2.x words it. */
function agentRefusal(exception: string): string {
  return `RuntimeError: Request failed with status code 400: ${traceback(exception)}.`;
}

/** A plain-text traceback ending in `exception`, the shape of Ray's error bodies. */
function traceback(exception: string): string {
  return `Traceback (most recent call last):\n  File "ray/dashboard/modules/job/job_head.py", in submit_job\n${exception}\n`;
}

/** What JobSubmitRequest.__post_init__ raises for `request`, if anything. */
function submitTypeError(request: Record<string, unknown>): string | undefined {
  const isNumber = (value: unknown) => typeof value === 'number';
  const isStringMap = (value: unknown) => isMap(value) && Object.values(value).every((item) => typeof item === 'string');
  if (typeof request['entrypoint'] !== 'string') return `entrypoint must be a string, got ${pyType(request['entrypoint'])}`;
  for (const key of ['submission_id', 'job_id']) if (key in request && typeof request[key] !== 'string') return `${key} must be a string if provided, got ${pyType(request[key])}`;
  if ('runtime_env' in request && !isMap(request['runtime_env'])) return `runtime_env must be a dict, got ${pyType(request['runtime_env'])}`;
  if ('metadata' in request && !isMap(request['metadata'])) return `metadata must be a dict, got ${pyType(request['metadata'])}`;
  if ('metadata' in request && !isStringMap(request['metadata'])) return `metadata values must be strings, got ${pyType(Object.values(request['metadata'] as object).find((value) => typeof value !== 'string'))}`;
  for (const key of ['entrypoint_num_cpus', 'entrypoint_num_gpus']) if (key in request && !isNumber(request[key])) return `${key} must be a number, got ${pyType(request[key])}`;
  if ('entrypoint_memory' in request && !Number.isInteger(request['entrypoint_memory'])) return `entrypoint_memory must be an integer, got ${pyType(request['entrypoint_memory'])}`;
  if ('entrypoint_resources' in request) {
    const resources = request['entrypoint_resources'];
    if (!isMap(resources)) return `entrypoint_resources must be a dict, got ${pyType(resources)}`;
    const notNumber = Object.values(resources).find((value) => !isNumber(value));
    if (notNumber !== undefined) return `entrypoint_resources values must be numbers, got ${pyType(notNumber)}`;
  }
  return undefined;
}

/** What the job agent's runtime_env parsing refuses in `runtimeEnv`, if anything. */
function runtimeEnvError(runtimeEnv: Record<string, unknown>): string | undefined {
  const unknown = Object.keys(runtimeEnv).find((key) => !RUNTIME_ENV_FIELDS.has(key));
  if (unknown) return `ValueError: runtime_env field '${unknown}' is not a field Ray knows, nor a runtime_env plugin of this cluster`;
  const env = runtimeEnv['env_vars'];
  if (env !== undefined && !(isMap(env) && Object.entries(env).every(([key, value]) => typeof key === 'string' && typeof value === 'string'))) {
    return `TypeError: runtime_env['env_vars'] must be of type Dict[str, str], got ${pyType(env)}`;
  }
  if ('image_uri' in runtimeEnv && typeof runtimeEnv['image_uri'] !== 'string') return `TypeError: runtime_env['image_uri'] must be a string, got ${pyType(runtimeEnv['image_uri'])}`;
  if ('image_uri' in runtimeEnv && 'container' in runtimeEnv) return 'ValueError: The \'container\' field currently cannot be used together with other fields of runtime_env.';
  return undefined;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The Python class a JSON value decodes to, as a TypeError names it. */
function pyType(value: unknown): string {
  if (value === undefined || value === null) return "<class 'NoneType'>";
  if (typeof value === 'number') return Number.isInteger(value) ? "<class 'int'>" : "<class 'float'>";
  if (typeof value === 'boolean') return "<class 'bool'>";
  if (typeof value === 'string') return "<class 'str'>";
  return Array.isArray(value) ? "<class 'list'>" : "<class 'dict'>";
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group has ended already.
  }
}

function signalNumber(signal: NodeJS.Signals | null): number | undefined {
  return signal ? { SIGTERM: 15, SIGKILL: 9, SIGINT: 2 }[signal as string] : undefined;
}

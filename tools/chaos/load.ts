import { createHash } from 'node:crypto';
import { setTimeout as pause } from 'node:timers/promises';

/** Where the load goes: the gateway and a key that may create projects, queues and grants. */
export interface LoadTarget {
  gateway: string;
  adminKey: string;
}

/**
 * One write the platform acknowledged, at the time the answer came. `id` says where to read it
 * back: `<project name>/<runId>/<step>` (metric), `<datasetId>/<version>` (dataset version), the job's id (job).
 */
export interface Write {
  kind: 'metric' | 'dataset-version' | 'job';
  id: string;
  at: number;
}

/** The ledger: every write acknowledged, and every one that was not (its HTTP status and answer, or the network error). */
export interface LoadReport {
  acknowledged: Write[];
  failed: Array<{ kind: Write['kind']; at: number; status: string }>;
}

export interface Load {
  /** The ledger so far, as a copy: a spec waits on it for writes in flight or succeeding again. */
  progress(): LoadReport;
  /** Stops writing; resolves with the ledger once in-flight writes have settled. */
  stop(): Promise<LoadReport>;
}

/** Points each metric write logs, each at a step of its own. */
const METRICS_PER_WRITE = 5;
/** Each request's bound, so a write never hangs the load: it fails and is recorded. */
const REQUEST_TIMEOUT_MS = 30_000;
/** After a failed write, its writer waits this long, so a service that is down is not hammered. */
const PAUSE_AFTER_FAILURE_MS = 100;
const JOB_RESOURCES = { cpuMillis: '100', memoryBytes: String(64 * 1024 * 1024) };
const FINAL_JOB_STATES = new Set(['JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED']);

/** A request the gateway did not answer with 200. */
class Refused extends Error {}

/** The gateway's routes the load uses, as the admin. */
function gatewayOf({ gateway, adminKey }: LoadTarget) {
  const send = async (path: string, init: RequestInit = {}): Promise<string> => {
    const response = await fetch(`${gateway}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${adminKey}`, ...init.headers },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    if (response.status !== 200) throw new Refused(`${response.status} ${text.slice(0, 500)}`);
    return text;
  };
  const post = async <T>(path: string, body: object): Promise<T> =>
    JSON.parse(await send(path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })) as T;
  return {
    send,
    post,
    /** The JSON route of a gRPC method, `/v1/<package.Service>/<Method>`. */
    call: <T>(method: string, body: object) => post<T>(`/v1/${method}`, body),
  };
}
type Gateway = ReturnType<typeof gatewayOf>;

/** What the writes of one load go to, made once by `prepare`. */
interface Setup {
  projectName: string;
  projectId: string;
  runId?: string;
  datasetId?: string;
  queue?: string;
}

let loads = 0;

/** Makes the project, and what each kind of write needs in it (names of this load's own, so several loads share a platform). */
async function prepare(gateway: Gateway, kinds: ReadonlyArray<Write['kind']>): Promise<Setup> {
  const name = `chaos-load-${Date.now().toString(36)}-${process.pid}-${++loads}`;
  const { project } = await gateway.call<{ project: { id: string } }>('trellis.governance.v1.IdentityService/CreateProject', { name });
  const setup: Setup = { projectName: name, projectId: project.id };
  if (kinds.includes('metric')) {
    const mlflow = <T>(path: string, body: object) => gateway.post<T>(`/projects/${name}/api/2.0/mlflow/${path}`, body);
    const { experiment_id } = await mlflow<{ experiment_id: string }>('experiments/create', { name: 'load' });
    setup.runId = (await mlflow<{ run: { info: { run_id: string } } }>('runs/create', { experiment_id, run_name: 'load' })).run.info.run_id;
  }
  if (kinds.includes('dataset-version')) {
    setup.datasetId = (await gateway.call<{ dataset: { id: string } }>('trellis.data.v1.DataService/CreateDataset', { projectId: project.id, name: 'load' })).dataset.id;
  }
  if (kinds.includes('job')) {
    setup.queue = name;
    await gateway.call('trellis.compute.v1.QueueService/CreateQueue', { queue: { name, cluster: 'local' } });
    await gateway.call('trellis.compute.v1.QueueService/SetGrant', {
      queue: name,
      projectId: project.id,
      quotas: [
        { resource: 'cpu', nominal: '2000' },
        { resource: 'memory', nominal: String(2 * 1024 * 1024 * 1024) },
      ],
    });
  }
  return setup;
}

/** One write of each kind: resolves with what was acknowledged, throws when it was not. */
function writers(gateway: Gateway, setup: Setup): Record<Write['kind'], () => Promise<Write[]>> {
  let step = 0;
  let file = 0;
  let job = 0;
  return {
    async metric() {
      const steps = Array.from({ length: METRICS_PER_WRITE }, () => step++);
      const timestamp = Date.now();
      await gateway.post(`/projects/${setup.projectName}/api/2.0/mlflow/runs/log-batch`, {
        run_id: setup.runId,
        metrics: steps.map((one) => ({ key: 'load', value: one, timestamp, step: one })),
      });
      const at = Date.now();
      return steps.map((one) => ({ kind: 'metric', id: `${setup.projectName}/${setup.runId}/${one}`, at }));
    },
    async 'dataset-version'() {
      const n = ++file;
      const bytes = Buffer.from(`load write ${n}\n`);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      await gateway.send(`/v1/data/projects/${setup.projectId}/blobs/${sha256}`, { method: 'PUT', body: bytes });
      const lines = [
        { header: { datasetId: setup.datasetId, message: `load write ${n}` } },
        { changes: { put: [{ path: `write-${n}.txt`, sizeBytes: String(bytes.length), sha256 }] } },
      ];
      const committed = await gateway.send('/v1/trellis.data.v1.DataService/CommitDatasetVersion', {
        method: 'POST',
        body: lines.map((line) => JSON.stringify(line)).join('\n'),
        headers: { 'content-type': 'application/x-ndjson' },
      });
      const { version } = (JSON.parse(committed) as { version: { version: string } }).version;
      return [{ kind: 'dataset-version', id: `${setup.datasetId}/${version}`, at: Date.now() }];
    },
    async job() {
      const n = ++job;
      const { job: submitted } = await gateway.call<{ job: { id: string } }>('trellis.compute.v1.JobService/SubmitJob', {
        projectId: setup.projectId,
        queue: setup.queue,
        requestId: `${setup.projectName}-${n}`,
        spec: { name: `load-${n}`, command: ['true'], resources: JOB_RESOURCES },
      });
      return [{ kind: 'job', id: submitted.id, at: Date.now() }];
    },
  };
}

/** What a failed write is recorded as: the gateway's status and answer, or the network error and its cause. */
function describeFailure(error: unknown): string {
  if (error instanceof Refused) return error.message;
  const { message, cause } = error as Error & { cause?: { code?: string; message?: string } };
  return cause ? `${message}: ${cause.code ?? cause.message}` : message;
}

/**
 * Sets up what the writes need (a project, experiment and run, a dataset, a queue with a grant) once, then writes continuously: metrics (MLflow log-batch, each metric a unique step), dataset versions (small file, committed), jobs (a short command on compute's local cluster). A failed write is recorded, never retried with the same ledger entry (so an ack is never assumed).
 *
 * `concurrency` writers (by default one per kind) each go round the kinds, each starting at another.
 */
export async function startLoad(target: LoadTarget, options: { kinds?: Array<Write['kind']>; concurrency?: number } = {}): Promise<Load> {
  const kinds = options.kinds ?? (['metric', 'dataset-version', 'job'] as const);
  const gateway = gatewayOf(target);
  const write = writers(gateway, await prepare(gateway, kinds));
  const report: LoadReport = { acknowledged: [], failed: [] };
  let stopping = false;

  const writer = async (first: number) => {
    for (let turn = first; !stopping; turn++) {
      const kind = kinds[turn % kinds.length];
      try {
        report.acknowledged.push(...(await write[kind]()));
      } catch (error) {
        report.failed.push({ kind, at: Date.now(), status: describeFailure(error) });
        await pause(PAUSE_AFTER_FAILURE_MS);
      }
    }
  };
  const running = Array.from({ length: options.concurrency ?? kinds.length }, (_, index) => writer(index));

  return {
    progress: () => ({ acknowledged: [...report.acknowledged], failed: [...report.failed] }),
    async stop() {
      stopping = true;
      await Promise.all(running);
      return report;
    },
  };
}

/** Groups `writes` of one kind by the part of their id before the last `/` (a project's run, a dataset). */
function byParent(writes: Write[]): Map<string, Write[]> {
  const groups = new Map<string, Write[]>();
  for (const one of writes) {
    const parent = one.id.slice(0, one.id.lastIndexOf('/'));
    groups.set(parent, [...(groups.get(parent) ?? []), one]);
  }
  return groups;
}

/** The part of a write's id after its last `/` (a step, a version number). */
const lastPart = (id: string) => id.slice(id.lastIndexOf('/') + 1);

/** The steps of metric `load` that run `runId` of project `projectName` holds, every page. */
async function loggedSteps(gateway: Gateway, projectName: string, runId: string): Promise<Set<number>> {
  const steps = new Set<number>();
  let pageToken = '';
  do {
    const query = new URLSearchParams({ run_id: runId, metric_key: 'load', max_results: '25000', ...(pageToken ? { page_token: pageToken } : {}) });
    const page = JSON.parse(await gateway.send(`/projects/${projectName}/api/2.0/mlflow/metrics/get-history?${query}`)) as {
      metrics?: Array<{ step: number | string }>;
      next_page_token?: string;
    };
    for (const point of page.metrics ?? []) steps.add(Number(point.step));
    pageToken = page.next_page_token ?? '';
  } while (pageToken);
  return steps;
}

/** The version numbers dataset `datasetId` holds, every page. */
async function committedVersions(gateway: Gateway, datasetId: string): Promise<Set<string>> {
  const versions = new Set<string>();
  let pageToken = '';
  do {
    const page = await gateway.call<{ versions?: Array<{ version: string }>; nextPageToken?: string }>('trellis.data.v1.DataService/ListDatasetVersions', {
      datasetId,
      pageSize: 1000,
      pageToken,
    });
    for (const one of page.versions ?? []) versions.add(String(one.version));
    pageToken = page.nextPageToken ?? '';
  } while (pageToken);
  return versions;
}

/** Each acknowledged job's state now; a job compute no longer knows is missing from the map. */
async function jobStates(gateway: Gateway, jobs: Write[]): Promise<Map<string, string>> {
  const states = new Map<string, string>();
  for (const { id } of jobs) {
    try {
      states.set(id, (await gateway.call<{ job: { state: string } }>('trellis.compute.v1.JobService/GetJob', { jobId: id })).job.state);
    } catch (error) {
      if (!(error instanceof Refused && error.message.startsWith('404 '))) throw error;
    }
  }
  return states;
}

/** Reads every acknowledged write back through the gateway (metric history, dataset versions, jobs) and returns those missing. */
export async function findLost(target: LoadTarget, report: LoadReport): Promise<Write[]> {
  const gateway = gatewayOf(target);
  const of = (kind: Write['kind']) => report.acknowledged.filter((one) => one.kind === kind);
  const lost: Write[] = [];
  for (const [run, writes] of byParent(of('metric'))) {
    const [projectName, runId] = run.split('/');
    const steps = await loggedSteps(gateway, projectName, runId);
    lost.push(...writes.filter((one) => !steps.has(Number(lastPart(one.id)))));
  }
  for (const [datasetId, writes] of byParent(of('dataset-version'))) {
    const versions = await committedVersions(gateway, datasetId);
    lost.push(...writes.filter((one) => !versions.has(lastPart(one.id))));
  }
  const jobs = of('job');
  const states = await jobStates(gateway, jobs);
  lost.push(...jobs.filter((one) => !states.has(one.id)));
  return lost;
}

/** The acknowledged jobs not yet in a final state (SUCCEEDED, FAILED, CANCELLED), with the state each is in. */
export async function unfinishedJobs(target: LoadTarget, report: LoadReport): Promise<Array<{ id: string; state: string }>> {
  const states = await jobStates(gatewayOf(target), report.acknowledged.filter((one) => one.kind === 'job'));
  return [...states].filter(([, state]) => !FINAL_JOB_STATES.has(state)).map(([id, state]) => ({ id, state }));
}

import 'reflect-metadata';
import { type FakeKubernetes, startFakeKubernetes } from '@trellis/plugin-compute-kubernetes/testing';
import { type FakeRay, startFakeRay } from '@trellis/plugin-compute-ray/testing';
import { type SlurmCluster, startSlurmCluster } from '@trellis/plugin-compute-slurm/testing';
import { eventually } from '@trellis/testing';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { ADMIN_KEY, type DistributedCompute, startDistributedCompute } from '../test/distributed-compute';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const JOBS = 200;
/** CPU of each replica, in millicores: quotas below are counted in these. */
const CPU = 500;
const IMAGE = 'busybox:1.36';
const HOLDING = ['JOB_STATE_ADMITTED', 'JOB_STATE_STARTING', 'JOB_STATE_RUNNING'];

interface JsonAttempt {
  number: number;
  state: string;
  cluster: string;
  placement: string;
  backendJobId: string;
  reason: string;
}
interface JsonJob {
  id: string;
  projectId: string;
  state: string;
  reason: string;
  spec: { image?: string; replicas?: number; resources: { cpuMillis: string; memoryBytes: string } };
  /** GetJob gives them; ListJobs does not. */
  attempts?: JsonAttempt[];
}
interface Project {
  name: string;
  id: string;
  jobs: number;
  nominal: number;
  borrowingLimit?: number;
  lendingLimit?: number;
}

/**
 * The 3 projects of the queue and their cpu quotas (millicores). The queue has no cohort of its own
 * name, so its grants are a cohort: vision may not borrow, speech may borrow 1000, robotics lends
 * only 500 of its nominal. At most 4500 millicores (9 replicas) run at once, far below what the
 * four clusters have: the quotas bind, not the clusters.
 */
const PROJECTS: Omit<Project, 'id'>[] = [
  { name: 'vision', jobs: 70, nominal: 2000, borrowingLimit: 0 },
  { name: 'speech', jobs: 70, nominal: 1500, borrowingLimit: 1000 },
  { name: 'robotics', jobs: 60, nominal: 1000, lendingLimit: 500 },
];

/** The n-th job of the run: every 5th has an image (Kubernetes runs it, Slurm through its container runtime), every 7th is a 2-replica gang. */
const specOf = (n: number) => ({
  name: `job-${n}`,
  ...(n % 5 === 0 ? { image: IMAGE } : {}),
  command: ['sh', '-c', `echo "job ${n} replica $TRELLIS_REPLICA_INDEX"`],
  resources: { cpuMillis: String(CPU), memoryBytes: String(64 * MiB) },
  replicas: n % 7 === 3 ? 2 : 1,
});

/**
 * Issue 15's "Done when", end to end through the gateway's JSON routes: one queue over four
 * clusters of four kinds (compute-local, a real Slurm with a container runtime, a fake Kubernetes
 * API server with Kueue, a fake Ray dashboard) takes 200 jobs of 3 projects under quotas that bind.
 * Every job ends SUCCEEDED, run once, on a cluster that can run it and has room for its whole gang,
 * as each backend's own record shows; no observation ever sees a project above what its grant and
 * the cohort allow. Mid-run the Kubernetes API server stops answering while jobs wait in its Kueue:
 * they move to the other clusters and run there once. The compute service runs as its own process
 * (PostgreSQL, NATS); governance, tracking, data and the gateway run in this one.
 */
describe('issue 15 done: one queue across local, Slurm, Kubernetes and Ray, 200 jobs of 3 projects under quotas, a cluster taken away', () => {
  let slurm: SlurmCluster;
  let k8s: FakeKubernetes;
  let ray: FakeRay;
  let stack: DistributedCompute;
  let computeDb: Client;
  let userKey: string;

  const call = <T = Record<string, unknown>>(method: string, body: object, key = userKey) => stack.call<T>(method, body, key);
  const admin = <T = Record<string, unknown>>(method: string, body: object) => call<T>(method, body, ADMIN_KEY);

  beforeAll(async () => {
    [slurm, k8s, ray] = await Promise.all([
      startSlurmCluster(),
      // Kueue holds every Job until the spec admits it: jobs wait in the cluster, placed but not started.
      startFakeKubernetes({ kueue: 'hold', nodes: [{ name: 'node-a', cpus: 4, memoryBytes: 8 * GiB }] }),
      startFakeRay({ resources: { CPU: 4, memory: 8 * GiB } }),
    ]);
    stack = await startDistributedCompute('one-queue');
    writeFileSync(join(stack.dir, 'kubeconfig'), k8s.kubeconfig);
    await stack.startCompute({
      // A health check at most every 250 ms, so 3 failed in a row (failover) take about a second.
      TRELLIS_COMPUTE_CAPACITY_CACHE_MS: '250',
      TRELLIS_COMPUTE_ADMISSION_INTERVAL_MS: '500',
    });
    computeDb = new Client({ connectionString: stack.computeDatabaseUrl });
    await computeDb.connect();
  }, 180_000);

  afterAll(async () => {
    await computeDb?.end();
    await stack?.stop();
    await Promise.allSettled([slurm?.stop(), k8s?.stop(), ray?.close()]);
  }, 60_000);

  it('runs 200 jobs of 3 projects once each on clusters that fit them, within quotas, and moves the jobs waiting on a cluster that stops answering', async () => {
    // 1. Three clusters beside `local`: Slurm (its "container runtime" drops the image and runs the command), Kubernetes with Kueue, Ray.
    const createCluster = (name: string, plugin: string, config: object) =>
      admin('trellis.plugins.v1.PluginInstanceService/CreatePluginInstance', { service: 'compute', kind: 'PLUGIN_KIND_COMPUTE', name, plugin, config });
    await createCluster('hpc', 'compute-slurm', {
      mode: 'rest',
      restUrl: slurm.restUrl,
      userName: 'slurm',
      jwtKey: `file:${slurm.jwtKeyPath}`,
      workDir: slurm.jobsDir,
      gpuMemoryBytes: { tesla: 16 * GiB },
      pollIntervalMs: 100,
      containerRuntime: { command: ['sh', '-c', 'shift; exec "$@"', 'container-runtime'] },
    });
    await createCluster('k8s', 'compute-kubernetes', { kubeconfig: `file:${join(stack.dir, 'kubeconfig')}`, kueue: { queueName: 'trellis' }, retryDelayMs: 100 });
    await createCluster('ray', 'compute-ray', { address: ray.url, pollIntervalMs: 100 });
    const { clusters } = await admin<{ clusters: Array<{ name: string; plugin: string; healthy: boolean; healthMessage?: string; capacity: Array<{ resource: string; amount: string }> }> }>(
      'trellis.compute.v1.ClusterService/ListClusters',
      {},
    );
    expect(clusters.map(({ name, plugin, healthy, healthMessage }) => ({ name, plugin, healthy, healthMessage })).sort((a, b) => a.name.localeCompare(b.name))).toEqual(
      ['hpc', 'k8s', 'local', 'ray'].map((name, index) => ({ name, plugin: ['compute-slurm', 'compute-kubernetes', 'compute-local', 'compute-ray'][index], healthy: true, healthMessage: '' })),
    );
    const capacity = new Map(clusters.map(({ name, capacity: amounts }) => [name, Object.fromEntries(amounts.map(({ resource, amount }) => [resource, Number(amount)]))]));

    // 2. One queue over the four, placing each job on the least loaded cluster that can run it; three projects with grants; erin submits.
    await admin('trellis.compute.v1.QueueService/CreateQueue', {
      queue: { name: 'everywhere', clusters: [{ name: 'local' }, { name: 'hpc' }, { name: 'k8s' }, { name: 'ray' }], placement: 'PLACEMENT_POLICY_LEAST_LOADED' },
    });
    const erin = (await admin<{ principal: { id: string } }>('trellis.governance.v1.IdentityService/CreatePrincipal', { kind: 'PRINCIPAL_KIND_USER', name: 'erin' })).principal.id;
    const projects: Project[] = [];
    for (const project of PROJECTS) {
      const id = (await admin<{ project: { id: string } }>('trellis.governance.v1.IdentityService/CreateProject', { name: project.name })).project.id;
      await admin('trellis.governance.v1.IdentityService/SetRoleBinding', { binding: { projectId: id, principalId: erin, role: 'ROLE_EDITOR' } });
      const cpu = { resource: 'cpu', nominal: String(project.nominal), ...(project.borrowingLimit !== undefined ? { borrowingLimit: String(project.borrowingLimit) } : {}), ...(project.lendingLimit !== undefined ? { lendingLimit: String(project.lendingLimit) } : {}) };
      await admin('trellis.compute.v1.QueueService/SetGrant', { queue: 'everywhere', projectId: id, quotas: [cpu, { resource: 'memory', nominal: String(8 * GiB) }] });
      projects.push({ ...project, id });
    }
    userKey = (await admin<{ secret: string }>('trellis.governance.v1.TokenService/CreateApiKey', { principalId: erin, name: 'erin' })).secret;

    // What each project may hold at once: its nominal plus what it may borrow of what the others lend.
    const lendable = (project: Project) => Math.min(project.lendingLimit ?? project.nominal, project.nominal);
    const allowed = new Map(
      projects.map((project) => {
        const othersLend = projects.filter((other) => other !== project).reduce((sum, other) => sum + lendable(other), 0);
        return [project.id, project.nominal + Math.min(project.borrowingLimit ?? Infinity, othersLend)];
      }),
    );
    const cohortNominal = projects.reduce((sum, project) => sum + project.nominal, 0);

    // Every observation checks the quotas: each project's jobs that hold quota, as ListJobs shows them (one read per project), and the
    // whole cohort's, read in one statement from the service's database so the three projects are seen at one instant.
    const violations: string[] = [];
    let observations = 0;
    let latest = new Map<string, JsonJob>();
    const held = (job: Pick<JsonJob, 'spec'>) => (job.spec.replicas || 1) * Number(job.spec.resources.cpuMillis);
    async function observe(): Promise<Map<string, JsonJob>> {
      observations += 1;
      const seen = new Map<string, JsonJob>();
      for (const project of projects) {
        const { jobs } = await call<{ jobs: JsonJob[] }>('trellis.compute.v1.JobService/ListJobs', { projectId: project.id, pageSize: 1000 });
        const used = jobs.filter((job) => HOLDING.includes(job.state)).reduce((sum, job) => sum + held(job), 0);
        if (used > allowed.get(project.id)!) violations.push(`observation ${observations}: ${project.name} holds ${used} cpu, its grant and the cohort allow ${allowed.get(project.id)}`);
        for (const job of jobs) seen.set(job.id, job);
      }
      const { rows } = await computeDb.query<{ replicas: number; admitted_request: string }>(`SELECT replicas, admitted_request FROM jobs WHERE state IN ('ADMITTED', 'STARTING', 'RUNNING')`);
      const cohortUsed = rows.reduce((sum, row) => sum + row.replicas * (JSON.parse(row.admitted_request) as { cpu: number }).cpu, 0);
      if (cohortUsed > cohortNominal) violations.push(`observation ${observations}: the cohort holds ${cohortUsed} cpu of ${cohortNominal}`);
      latest = seen;
      return seen;
    }
    const succeeded = (jobs: Map<string, JsonJob>) => [...jobs.values()].filter((job) => job.state === 'JOB_STATE_SUCCEEDED');

    // 3. 200 jobs, submitted at once.
    const submissions = projects.flatMap((project, index) => Array.from({ length: project.jobs }, (_, n) => ({ projectId: project.id, spec: specOf(index * 100 + n) })));
    expect(submissions).toHaveLength(JOBS);
    const ids = await Promise.all(
      submissions.map(async ({ projectId, spec }) => (await call<{ job: { id: string } }>('trellis.compute.v1.JobService/SubmitJob', { projectId, queue: 'everywhere', spec })).job.id),
    );
    expect(new Set(ids).size).toBe(JOBS);

    // 4. Jobs run everywhere; Kueue admits what waits on Kubernetes at each look, until a quarter are done and Kubernetes ran some.
    await eventually(
      async () => {
        k8s.admitQueued();
        const jobs = await observe();
        expect(succeeded(jobs).length).toBeGreaterThanOrEqual(JOBS / 4);
        expect(new Set(k8s.pods().filter((pod) => pod.status?.phase === 'Succeeded').map((pod) => pod.metadata?.labels?.['batch.kubernetes.io/job-name'])).size).toBeGreaterThanOrEqual(2);
      },
      { timeoutMs: 120_000, intervalMs: 100 },
    );

    // 5. Kueue stops admitting: what the queue places on Kubernetes now waits there. Once jobs wait and nothing runs there, its API server stops.
    await eventually(
      async () => {
        await observe();
        const waiting = k8s.jobs().filter((job) => job.spec?.suspend);
        const active = k8s.pods().filter((pod) => !['Succeeded', 'Failed'].includes(pod.status?.phase ?? ''));
        expect({ waiting: waiting.length > 0, active: active.length }).toEqual({ waiting: true, active: 0 });
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    await k8s.stop();
    const ranOnK8s = new Set(k8s.pods().map((pod) => pod.metadata?.labels?.['batch.kubernetes.io/job-name']));

    // 6. Every job ends SUCCEEDED, the ones that waited on Kubernetes too.
    await eventually(
      async () => {
        const jobs = await observe();
        expect(succeeded(jobs).length).toBe(JOBS);
      },
      { timeoutMs: 180_000, intervalMs: 200 },
    );
    const full = await Promise.all([...latest.values()].map(async (job) => (await call<{ job: JsonJob }>('trellis.compute.v1.JobService/GetJob', { jobId: job.id })).job));

    // Quotas held at every observation.
    expect(violations).toEqual([]);
    expect(observations).toBeGreaterThan(10);

    // Each job's last attempt succeeded on a cluster that can run it (images: Kubernetes or Slurm's runtime; commands: not Kubernetes,
    // which has no defaultImage) and has room for its whole gang; every earlier attempt was moved off Kubernetes before it ran.
    const canRun = (job: JsonJob, cluster: string) => (job.spec.image ? ['k8s', 'hpc'] : ['local', 'hpc', 'ray']).includes(cluster);
    const fits = (job: JsonJob, cluster: string) =>
      capacity.get(cluster)!.cpu >= (job.spec.replicas || 1) * Number(job.spec.resources.cpuMillis) && capacity.get(cluster)!.memory >= (job.spec.replicas || 1) * Number(job.spec.resources.memoryBytes);
    const moved: JsonJob[] = [];
    for (const job of full) {
      const attempts = job.attempts ?? [];
      const last = attempts[attempts.length - 1];
      expect({ job: job.id, state: last.state, canRun: canRun(job, last.cluster), fits: fits(job, last.cluster) }).toEqual({ job: job.id, state: 'ATTEMPT_STATE_SUCCEEDED', canRun: true, fits: true });
      expect(last.placement).toContain(last.cluster);
      for (const earlier of attempts.slice(0, -1)) {
        expect(earlier).toMatchObject({ cluster: 'k8s', state: 'ATTEMPT_STATE_CANCELLED', reason: expect.stringMatching(/^moved: cluster k8s stopped answering \(3 health checks failed in a row: /) });
      }
      if (attempts.length > 1) moved.push(job);
    }
    expect(moved.length).toBeGreaterThan(0);
    for (const job of moved) expect(job.attempts!.map(({ cluster }) => cluster)).toEqual(['k8s', 'hpc']);

    // Once each, by each backend's own record: one backend job per attempt, on the attempt's cluster, and only the last attempt ran.
    const attempts = full.flatMap((job) => (job.attempts ?? []).map((attempt) => ({ ...attempt, key: `${job.id}:${attempt.number}` })));
    const keysOn = (cluster: string, state?: string) =>
      attempts
        .filter((attempt) => attempt.cluster === cluster && (!state || attempt.state === state))
        .map(({ key }) => key)
        .sort();
    const byId = (cluster: string) => new Map(attempts.filter((attempt) => attempt.cluster === cluster).map((attempt) => [attempt.backendJobId, attempt.key]));

    // Slurm: squeue lists every job of the run (MinJobAge keeps ended ones), each COMPLETED, each an attempt on hpc.
    const squeue = (await promisify(execFile)('squeue', ['-h', '-t', 'all', '-o', '%i %T'], { env: { ...process.env, SLURM_CONF: slurm.slurmConf } })).stdout.split('\n').filter(Boolean);
    const slurmIds = byId('hpc');
    expect(squeue.map((line) => line.split(' ')[1])).toEqual(squeue.map(() => 'COMPLETED'));
    expect(squeue.map((line) => slurmIds.get(line.split(' ')[0])).sort()).toEqual(keysOn('hpc'));

    // Ray: the dashboard's job list, each SUCCEEDED, each an attempt on ray, none submitted twice.
    const rayJobs = (await (await fetch(`${ray.url}/api/jobs/`)).json()) as Array<{ submission_id: string; status: string }>;
    const rayIds = byId('ray');
    expect(rayJobs.map((job) => job.status)).toEqual(rayJobs.map(() => 'SUCCEEDED'));
    expect(rayJobs.map((job) => rayIds.get(job.submission_id)).sort()).toEqual(keysOn('ray'));
    expect(ray.submitted).toHaveLength(rayJobs.length);
    expect(ray.rejected).toEqual([]);

    // Kubernetes: one Job created per attempt (by its idempotency key); pods ran for the succeeded ones only, none for those moved off.
    expect(k8s.validationFailures).toEqual([]);
    const created = k8s.created.jobs.map((job) => ({ key: job.metadata!.annotations!['trellis.dev/idempotency-key'], name: job.metadata!.name!, ran: ranOnK8s.has(job.metadata!.name) }));
    const createdKeys = created.map(({ key }) => key).sort();
    expect(new Set(createdKeys).size).toBe(createdKeys.length);
    expect(createdKeys.filter((key) => !keysOn('k8s').includes(key))).toEqual([]);
    // An attempt the API server took has its Job there under the attempt's name (one moved off while it was being submitted may have none).
    const k8sIds = byId('k8s');
    expect([...k8sIds].filter(([name]) => name !== '').every(([name, key]) => created.some((job) => job.name === name && job.key === key))).toBe(true);
    expect(created.filter(({ ran }) => ran).map(({ key }) => key).sort()).toEqual(keysOn('k8s', 'ATTEMPT_STATE_SUCCEEDED'));

    // compute-local: one job folder per attempt on local, each ended succeeded.
    const localJobs = jobFolders(join(stack.dir, 'compute'));
    expect(localJobs.map((folder) => (JSON.parse(readFileSync(join(folder, 'job.json'), 'utf8')) as { idempotencyKey: string }).idempotencyKey).sort()).toEqual(keysOn('local'));
    expect(localJobs.map((folder) => (JSON.parse(readFileSync(join(folder, 'final.json'), 'utf8')) as { state: string }).state)).toEqual(localJobs.map(() => 'succeeded'));

    // Every cluster took part, and each job ran once: 200 successful attempts in all.
    expect(['local', 'hpc', 'k8s', 'ray'].map((cluster) => keysOn(cluster, 'ATTEMPT_STATE_SUCCEEDED').length > 0)).toEqual([true, true, true, true]);
    expect(attempts.filter((attempt) => attempt.state === 'ATTEMPT_STATE_SUCCEEDED')).toHaveLength(JOBS);
  }, 420_000);
});

/** compute-local's job folders (`<workDir>/jobs/local-<32 hex>`, each with job.json) under `root`. */
function jobFolders(root: string): string[] {
  const found: string[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const path = join(folder, entry.name);
      if (/^local-[0-9a-f]{32}$/.test(entry.name) && basename(folder) === 'jobs' && existsSync(join(path, 'job.json'))) found.push(path);
      else walk(path);
    }
  };
  walk(root);
  return found;
}

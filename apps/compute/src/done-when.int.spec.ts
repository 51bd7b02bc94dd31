import 'reflect-metadata';
import { type SlurmCluster, startSlurmCluster } from '@trellis/plugin-compute-slurm/testing';
import { eventually } from '@trellis/testing';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ADMIN_KEY, type DistributedCompute, startDistributedCompute } from '../test/distributed-compute';

const TESLA_BYTES = 16 * 1024 ** 3;
const MiB = 1024 ** 2;

interface JsonJob {
  id: string;
  state: string;
  reason: string;
  runId: string;
  borrowing: boolean;
  attempts: Array<{ number: number; backendJobId: string; exitCode?: number }>;
}
interface LogLine {
  replica?: number;
  line: string;
}

/**
 * A replica of the 2-replica training job, as a shell script: it says which replica it is and
 * which GPUs it sees; replica 0 logs `loss` to the job's MLflow run through the gateway with the
 * injected variables (what an MLflow client does); then each waits for the spec's go (a file), so
 * the compute service can be killed while the job runs.
 */
const TRAIN = [
  'echo "replica $TRELLIS_REPLICA_INDEX of $WORLD_SIZE sees gpus ${CUDA_VISIBLE_DEVICES-none}"',
  'if [ "$TRELLIS_REPLICA_INDEX" = 0 ]; then',
  '  curl -sf -o /dev/null -X POST "$MLFLOW_TRACKING_URI/api/2.0/mlflow/runs/log-metric" -H "authorization: Bearer $MLFLOW_TRACKING_TOKEN" \\',
  '    -H "content-type: application/json" -d "{\\"run_id\\":\\"$MLFLOW_RUN_ID\\",\\"key\\":\\"loss\\",\\"value\\":0.25,\\"timestamp\\":1,\\"step\\":1}" || exit 7',
  '  echo "logged loss to run $MLFLOW_RUN_ID"',
  'fi',
  'while [ ! -e "$GO" ]; do sleep 0.1; done',
  'echo "replica $TRELLIS_REPLICA_INDEX done"',
].join('\n');

/**
 * Issue 14's "Done when", end to end and through the gateway's JSON routes only: an org admin
 * registers a real Slurm cluster (slurmctld, slurmd, slurmrestd with 2 fake tesla GPUs) beside the
 * local machine, gives two projects quotas on one queue, and a 2-replica GPU job waits with a reason
 * naming the quota, starts when quota frees up, logs to its own MLflow run and ends with the run
 * FINISHED. The compute service runs as its own process (distributed: PostgreSQL, NATS) and is
 * SIGKILLed twice: between Slurm's accepting an attempt and its record, and while the job runs.
 * Governance, tracking, data and the gateway run in this process.
 */
describe('issue 14 done: a GPU job on Slurm under quotas, through the gateway, surviving compute kills', () => {
  let slurm: SlurmCluster;
  let stack: DistributedCompute;

  /** The API key of erin, the user who submits the jobs (an editor of both projects). */
  let userKey: string;

  /** A call to a gRPC method through the gateway's JSON route, with an API key (erin's unless named). */
  const call = <T = Record<string, unknown>>(method: string, body: object, key = userKey) => stack.call<T>(method, body, key);
  const jobOf = async (jobId: string) => (await call<{ job: JsonJob }>('trellis.compute.v1.JobService/GetJob', { jobId })).job;
  const untilState = (jobId: string, state: string) => eventually(async () => expect((await jobOf(jobId)).state).toBe(state), { timeoutMs: 60_000, intervalMs: 100 });
  const logsOf = async (jobId: string): Promise<LogLine[]> => {
    const response = await fetch(`${stack.gateway}/v1/trellis.compute.v1.JobService/StreamJobLogs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${userKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jobId }),
    });
    expect(response.status).toBe(200);
    return (await response.text()).split('\n').filter(Boolean).map((line) => JSON.parse(line) as LogLine);
  };
  const mlflowRun = async (runId: string) => {
    const response = await fetch(`${stack.gateway}/api/2.0/mlflow/runs/get?run_id=${runId}`, { headers: { authorization: `Bearer ${userKey}` } });
    expect(response.status).toBe(200);
    return ((await response.json()) as { run: { info: { status: string }; data: { metrics?: Array<{ key: string; value: number }> } } }).run;
  };
  /** Every job Slurm knows, in any state. */
  const slurmJobs = async () =>
    (await promisify(execFile)('squeue', ['-h', '-t', 'all', '-o', '%i'], { env: { ...process.env, SLURM_CONF: slurm.slurmConf } })).stdout.split('\n').filter(Boolean);

  beforeAll(async () => {
    slurm = await startSlurmCluster();
    stack = await startDistributedCompute('done-when');
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await slurm?.stop();
  }, 60_000);

  it('queues a 2-replica GPU job behind the quota, runs it once across two kills, and finishes its MLflow run', async () => {
    // The first compute process dies by the failpoint at its first submission to a backend.
    const doomed = await stack.startCompute({ TRELLIS_FAILPOINTS: 'compute.after-submit' });

    // 1. The org admin registers the Slurm cluster; the local machine is a cluster already.
    const admin = <T = Record<string, unknown>>(method: string, body: object) => call<T>(method, body, ADMIN_KEY);
    await admin('trellis.plugins.v1.PluginInstanceService/CreatePluginInstance', {
      service: 'compute',
      kind: 'PLUGIN_KIND_COMPUTE',
      name: 'hpc',
      plugin: 'compute-slurm',
      config: { mode: 'rest', restUrl: slurm.restUrl, userName: 'slurm', jwtKey: `file:${slurm.jwtKeyPath}`, workDir: slurm.jobsDir, gpuMemoryBytes: { tesla: TESLA_BYTES }, pollIntervalMs: 100 },
    });
    const { clusters } = await admin<{ clusters: Array<{ name: string; plugin: string; healthy: boolean; capacity: Array<{ resource: string; amount: string }> }> }>(
      'trellis.compute.v1.ClusterService/ListClusters',
      {},
    );
    expect(clusters.map(({ name, plugin, healthy }) => ({ name, plugin, healthy })).sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'hpc', plugin: 'compute-slurm', healthy: true },
      { name: 'local', plugin: 'compute-local', healthy: true },
    ]);
    const capacityOf = (name: string) => Object.fromEntries(clusters.find((cluster) => cluster.name === name)!.capacity.map(({ resource, amount }) => [resource, amount]));
    expect(capacityOf('hpc')).toEqual({ cpu: '8000', memory: String(16000 * MiB), 'gpu/tesla': '2' });
    expect(Number(capacityOf('local').cpu)).toBeGreaterThan(0);

    // 2. Two projects with erin as their editor; one queue on the Slurm cluster: vision's quota is both GPUs, speech's none (it borrows what vision leaves idle).
    const erin = (await admin<{ principal: { id: string } }>('trellis.governance.v1.IdentityService/CreatePrincipal', { kind: 'PRINCIPAL_KIND_USER', name: 'erin' })).principal.id;
    const projectIdOf = async (name: string) => {
      const projectId = (await admin<{ project: { id: string } }>('trellis.governance.v1.IdentityService/CreateProject', { name })).project.id;
      await admin('trellis.governance.v1.IdentityService/SetRoleBinding', { binding: { projectId, principalId: erin, role: 'ROLE_EDITOR' } });
      return projectId;
    };
    const vision = await projectIdOf('vision');
    const speech = await projectIdOf('speech');
    userKey = (await admin<{ secret: string }>('trellis.governance.v1.TokenService/CreateApiKey', { principalId: erin, name: 'erin' })).secret;
    await admin('trellis.compute.v1.QueueService/CreateQueue', { queue: { name: 'gpu-hpc', cluster: 'hpc', cohort: 'gpu' } });
    const quotas = (gpus: number) => [
      { resource: 'cpu', nominal: '2000' },
      { resource: 'memory', nominal: String(1024 * MiB) },
      { resource: 'gpu/tesla', nominal: String(gpus) },
    ];
    await admin('trellis.compute.v1.QueueService/SetGrant', { queue: 'gpu-hpc', projectId: vision, quotas: quotas(2) });
    await admin('trellis.compute.v1.QueueService/SetGrant', { queue: 'gpu-hpc', projectId: speech, quotas: quotas(0) });

    // vision's job takes both GPUs; the compute service is killed after Slurm took it, before it recorded Slurm's id.
    const resources = (gpus: number) => ({ cpuMillis: '100', memoryBytes: String(64 * MiB), gpus, gpuType: 'tesla' });
    const first = (
      await call<{ job: JsonJob }>('trellis.compute.v1.JobService/SubmitJob', {
        projectId: vision,
        queue: 'gpu-hpc',
        spec: { name: 'sweep', command: ['sleep', '3600'], resources: resources(2) },
      })
    ).job.id;
    const [, signal] = await once(doomed, 'exit');
    expect(signal).toBe('SIGKILL');
    const compute = await stack.startCompute();
    await untilState(first, 'JOB_STATE_RUNNING');
    const [firstAttempt] = (await jobOf(first)).attempts;
    expect((await jobOf(first)).attempts).toHaveLength(1);
    expect(await slurmJobs()).toEqual([firstAttempt.backendJobId]);

    // 3. speech's 2-replica job, 1 GPU each, in an experiment: it waits, and says it waits for quota.
    const { experiment } = await call<{ experiment: { id: string } }>('trellis.tracking.v1.ExperimentService/CreateExperiment', { projectId: speech, name: 'asr' });
    const go = join(slurm.jobsDir, 'go');
    const train = (
      await call<{ job: JsonJob }>('trellis.compute.v1.JobService/SubmitJob', {
        projectId: speech,
        queue: 'gpu-hpc',
        spec: { name: 'train', command: ['sh', '-c', TRAIN], env: { GO: go }, resources: resources(1), replicas: 2, experimentId: experiment.id },
      })
    ).job.id;
    // Until the admission loop looks at it, its reason says so; then it names the quota.
    const waiting = `waiting: needs 2 replicas x 1 gpu/tesla = 2; project ${speech} uses 0/0 gpu/tesla of its quota on queue gpu-hpc; cohort gpu has 0 to lend`;
    await eventually(async () => expect(await jobOf(train)).toMatchObject({ state: 'JOB_STATE_QUEUED', reason: waiting }), { timeoutMs: 30_000, intervalMs: 100 });

    // Quota frees up: vision's job is cancelled (on Slurm too), and speech's borrows the GPUs.
    await call('trellis.compute.v1.JobService/CancelJob', { jobId: first });
    await untilState(first, 'JOB_STATE_CANCELLED');
    await untilState(train, 'JOB_STATE_RUNNING');
    const running = await jobOf(train);
    expect(running.borrowing).toBe(true);
    expect(running.runId).not.toBe('');
    await eventually(async () => expect((await mlflowRun(running.runId)).data.metrics).toEqual([expect.objectContaining({ key: 'loss', value: 0.25 })]), { timeoutMs: 30_000, intervalMs: 100 });
    await eventually(async () => expect((await logsOf(train)).filter(({ line }) => line.startsWith('replica '))).toHaveLength(2), { timeoutMs: 30_000, intervalMs: 100 });
    expect((await mlflowRun(running.runId)).info.status).toBe('RUNNING');

    // 4. The compute service is killed while both replicas run, and the job is let finish meanwhile.
    compute.kill('SIGKILL');
    await once(compute, 'exit');
    writeFileSync(go, '');
    await stack.startCompute();
    await untilState(train, 'JOB_STATE_SUCCEEDED');

    // Nothing lost, nothing twice: one attempt, each replica's lines once, two Slurm jobs in all, the run FINISHED with its metric.
    const done = await jobOf(train);
    expect(done.attempts.map(({ number, exitCode }) => ({ number, exitCode }))).toEqual([{ number: 1, exitCode: 0 }]);
    expect((await slurmJobs()).sort()).toEqual([firstAttempt.backendJobId, done.attempts[0].backendJobId].sort());
    const lines = (await logsOf(train)).map(({ replica, line }) => `${replica ?? 0}: ${line}`).sort();
    expect(lines).toEqual([
      `0: logged loss to run ${running.runId}`,
      '0: replica 0 done',
      // Each replica is bound to its own GPU of the job's allocation, in order.
      '0: replica 0 of 2 sees gpus 0',
      '1: replica 1 done',
      '1: replica 1 of 2 sees gpus 1',
    ]);
    await eventually(async () => expect((await mlflowRun(running.runId)).info.status).toBe('FINISHED'), { timeoutMs: 30_000, intervalMs: 100 });
    expect((await mlflowRun(running.runId)).data.metrics).toEqual([expect.objectContaining({ key: 'loss', value: 0.25 })]);
    const { jobs } = await call<{ jobs: JsonJob[] }>('trellis.compute.v1.JobService/ListJobs', { projectId: speech });
    expect(jobs.map(({ id, state }) => ({ id, state }))).toEqual([{ id: train, state: 'JOB_STATE_SUCCEEDED' }]);
  }, 240_000);
});

import 'reflect-metadata';
import { status } from '@grpc/grpc-js';
import { computeService } from '@trellis/compute';
import { dataService } from '@trellis/data';
import { gatewayEdge } from '@trellis/gateway';
import { governanceService } from '@trellis/governance';
import { createGrpcClient, runProcess, type GrpcCallError, type RunningProcess } from '@trellis/platform';
import { definePlugin, z } from '@trellis/plugin-sdk';
import { MemoryComputeBackend, type JobProgram } from '@trellis/plugin-sdk/testing';
import kmsLocal from '@trellis/plugin-kms-local';
import storageFs from '@trellis/plugin-storage-fs';
import { DataServiceDesc, ExperimentServiceDesc, IdentityServiceDesc, JobServiceDesc, JobState, MetricServiceDesc, QueueServiceDesc, RunServiceDesc, RunStatus, TokenServiceDesc } from '@trellis/proto';
import { closedPort, eventually } from '@trellis/testing';
import { trackingService } from '@trellis/tracking';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ADMIN_KEY = `trellis_00000000000000c0_${'C'.repeat(43)}`;

/** What an unmodified training script does with MLflow's variables: logs a metric over MLflow's REST API with the token. */
const train: JobProgram = async (_args, io) => {
  const { MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN, MLFLOW_RUN_ID, MLFLOW_EXPERIMENT_ID } = io.env;
  io.stdout(`run ${MLFLOW_RUN_ID} in experiment ${MLFLOW_EXPERIMENT_ID}`);
  const response = await fetch(`${MLFLOW_TRACKING_URI}/api/2.0/mlflow/runs/log-metric`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MLFLOW_TRACKING_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ run_id: MLFLOW_RUN_ID, key: 'loss', value: 0.25, timestamp: Date.now(), step: 1 }),
  });
  io.stdout(`log-metric answered ${response.status}`);
  io.stdout(`inputs ${io.env.TRELLIS_DATASET_INPUTS}`);
  io.stdout(`token ${MLFLOW_TRACKING_TOKEN}`);
  return response.ok ? 0 : 1;
};
const memoryCompute = definePlugin({
  manifest: { kind: 'compute', id: 'compute-memory', apiVersion: 'v1' },
  configSchema: z.object({}),
  create: () => new MemoryComputeBackend({ programs: { train } }),
});

/**
 * A job's tracking run, standalone (governance, tracking, compute and the gateway in one process):
 * the job's code gets MLflow's variables and logs into its run through the gateway with the
 * credential the service had governance make for the submitter; the run ends FINISHED with the job,
 * and the credential is revoked. Its dataset input is resolved at submission to the version the tag
 * names then. The job's logs are read through the gateway, as NDJSON.
 */
describe("a job's tracking run (standalone, with the gateway)", () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-compute-run-'));
  const saved = { ...process.env };
  let running: RunningProcess;
  let gatewayUrl: string;
  /** The project and experiment the first spec makes. */
  let projectId: string;
  let experimentId: string;
  const address = (name: string) => running.services.find((service) => service.name === name)!.grpcAddress;

  beforeAll(async () => {
    const gatewayPort = await closedPort();
    gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    writeFileSync(join(dir, 'trellis.yaml'), 'compute:\n  local:\n    plugin: compute-memory\n');
    Object.assign(process.env, {
      TRELLIS_CONFIG: join(dir, 'trellis.yaml'),
      TRELLIS_DATA_DIR: join(dir, 'data'),
      TRELLIS_OPS_PORT: '0',
      TRELLIS_LOG_LEVEL: 'silent',
      TRELLIS_GOVERNANCE_ADMIN_KEY: ADMIN_KEY,
      TRELLIS_GOVERNANCE_PORT: '0',
      TRELLIS_TRACKING_PORT: '0',
      TRELLIS_COMPUTE_PORT: '0',
      TRELLIS_DATA_PORT: '0',
      TRELLIS_GATEWAY_PORT: String(gatewayPort),
      TRELLIS_COMPUTE_TRACKING_URI: `http://127.0.0.1:${gatewayPort}`,
    });
    running = await runProcess({
      mode: 'standalone',
      services: [governanceService, trackingService, dataService, computeService],
      edges: [gatewayEdge],
      plugins: [storageFs, kmsLocal, memoryCompute],
      print: () => undefined,
    });
  }, 60_000);

  afterAll(async () => {
    await running?.stop();
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the job in its own run, FINISHED with it, with a credential that is revoked at its end', async () => {
    const tokens = createGrpcClient(TokenServiceDesc, address('governance'));
    const adminToken = async () => (await tokens.exchangeApiKey({ apiKey: ADMIN_KEY })).token;
    projectId = (await createGrpcClient(IdentityServiceDesc, address('governance'), { token: await adminToken() }).createProject({ name: 'vision' })).project!.id;
    const token = await adminToken();
    const experiments = createGrpcClient(ExperimentServiceDesc, address('tracking'), { token });
    experimentId = (await experiments.createExperiment({ projectId, name: 'resnet' })).experiment!.id;
    const queues = createGrpcClient(QueueServiceDesc, address('compute'), { token });
    await queues.createQueue({ queue: { name: 'local', cluster: 'local' } });
    await queues.setGrant({ queue: 'local', projectId, quotas: [{ resource: 'cpu', nominal: 8000n }, { resource: 'memory', nominal: 32n * 1024n ** 3n }] });
    const jobs = createGrpcClient(JobServiceDesc, address('compute'), { token });
    const data = createGrpcClient(DataServiceDesc, address('data'), { token });
    const datasetId = (await data.createDataset({ projectId, name: 'churn' })).dataset!.id;
    const files = join(dir, 'churn');
    mkdirSync(files);
    writeFileSync(join(files, 'train.csv'), 'a,b\n1,2\n');
    const pushed = await fetch(`${gatewayUrl}/v1/data/datasets/${datasetId}/versions?tag=golden`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/x-tar' },
      body: execFileSync('tar', ['-C', files, '-c', '.']),
    });
    expect(pushed.status).toBe(200);
    const missing = await jobs
      .submitJob({ projectId, queue: 'local', spec: { name: 'train', command: ['train'], inputs: [{ reference: 'datasets:/churn@nope' }] } })
      .then(() => undefined, (error: unknown) => error as GrpcCallError);
    expect({ code: missing?.code, details: missing?.details }).toEqual({ code: status.NOT_FOUND, details: expect.stringContaining('spec.inputs[0]') });

    const inputs = [{ reference: 'datasets:/churn@golden' }];
    const { job } = await jobs.submitJob({ projectId, queue: 'local', spec: { name: 'train', command: ['train'], experimentId, inputs } });
    expect(job?.spec?.inputs.map(({ reference, resolvedReference }) => ({ reference, resolvedReference }))).toEqual([{ reference: 'datasets:/churn@golden', resolvedReference: 'datasets:/churn/1' }]);
    await eventually(async () => expect((await jobs.getJob({ jobId: job!.id })).job?.state).toBe(JobState.SUCCEEDED), { timeoutMs: 30_000 });
    const { runId } = (await jobs.getJob({ jobId: job!.id })).job!;
    expect(runId).not.toBe('');
    // The logs through the gateway: NDJSON, one message per line.
    const response = await fetch(`${gatewayUrl}/v1/trellis.compute.v1.JobService/StreamJobLogs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jobId: job!.id, follow: true }),
    });
    expect(response.status).toBe(200);
    const lines = (await response.text())
      .split('\n')
      .filter(Boolean)
      .map((text) => (JSON.parse(text) as { line: string }).line);
    expect(lines.slice(0, 3)).toEqual([
      `run ${runId} in experiment ${experimentId}`,
      'log-metric answered 200',
      `inputs ${JSON.stringify([{ reference: 'datasets:/churn@golden', mode: 'DOWNLOAD', resolvedReference: 'datasets:/churn/1' }])}`,
    ]);

    const runs = createGrpcClient(RunServiceDesc, address('tracking'), { token });
    await eventually(async () => expect((await runs.getRun({ runId })).run?.info?.status).toBe(RunStatus.FINISHED));
    expect((await runs.getRun({ runId })).run?.data?.tags).toEqual(expect.arrayContaining([expect.objectContaining({ key: 'trellis.job_id', value: job!.id })]));
    const metrics = createGrpcClient(MetricServiceDesc, address('tracking'), { token });
    expect((await metrics.getMetricHistory({ runId, key: 'loss' })).metrics.map(({ value }) => value)).toEqual([0.25]);

    const credential = lines[3].slice('token '.length);
    await eventually(async () => {
      const refused = await tokens.exchangeApiKey({ apiKey: credential }).then(() => undefined, (error: unknown) => error as GrpcCallError);
      expect(refused?.code).toBe(status.UNAUTHENTICATED);
    });
    for (const client of [tokens, experiments, queues, jobs, data, runs, metrics]) client.close();
  }, 60_000);

  it('sets the run KILLED when a job waiting to retry is cancelled', async () => {
    const tokens = createGrpcClient(TokenServiceDesc, address('governance'));
    const token = (await tokens.exchangeApiKey({ apiKey: ADMIN_KEY })).token;
    const jobs = createGrpcClient(JobServiceDesc, address('compute'), { token });
    const runs = createGrpcClient(RunServiceDesc, address('tracking'), { token });
    const { job } = await jobs.submitJob({
      projectId,
      queue: 'local',
      spec: { name: 'flaky', command: ['exit', '3'], experimentId, retries: { maxRetries: 1, backoff: { seconds: 3600n } } },
    });
    await eventually(async () => expect((await jobs.getJob({ jobId: job!.id })).job?.reason).toMatch(/^retrying: attempt 1 failed/));
    const { runId } = (await jobs.getJob({ jobId: job!.id })).job!;
    expect((await runs.getRun({ runId })).run?.info?.status).toBe(RunStatus.RUNNING);
    await jobs.cancelJob({ jobId: job!.id });
    await eventually(async () => expect((await runs.getRun({ runId })).run?.info?.status).toBe(RunStatus.KILLED));
    for (const client of [tokens, jobs, runs]) client.close();
  }, 60_000);
});

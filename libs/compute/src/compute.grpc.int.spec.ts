import { fromBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { callEveryMethodWithoutToken, type EventSubscription, type GrpcCallError, type GrpcClient, type RunningService } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import {
  AttemptState,
  ClusterServiceDesc,
  JobEventSchema,
  JobServiceDesc,
  JobState,
  QueueServiceDesc,
  ReclaimWithinCohort,
  JobSpecSchema,
} from '@trellis/proto';
import { eventually, serviceDatabases, type ServiceDatabase } from '@trellis/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeService } from './compute.definition';
import { memoryComputePlugin } from './testing/memory-compute.plugin';

type Jobs = GrpcClient<(typeof JobServiceDesc)['method']>;
type Queues = GrpcClient<(typeof QueueServiceDesc)['method']>;
type Role = 'viewer' | 'editor' | 'admin' | 'owner';

const failure = (call: Promise<unknown>) => call.then(() => undefined, (error: unknown) => error as GrpcCallError);
type SpecInit = Exclude<MessageInitShape<typeof JobSpecSchema>, { $typeName: string }>;
const spec = (init: Partial<SpecInit>): SpecInit => ({ name: 'job', command: ['echo', 'hello'], ...init }) as SpecInit;

describe.each(serviceDatabases('compute'))('compute through gRPC (%s)', (_database, databaseFor) => {
  let database: ServiceDatabase;
  let platform: TestPlatform;
  let service: RunningService;
  let subscription: EventSubscription;
  let configDir: string;
  let admin: Queues;
  let editorQueues: Queues;
  let viewerQueues: Queues;
  let editor: Jobs;
  let viewer: Jobs;
  let outsider: Jobs;
  const events: Array<{ subject: string; jobId: string; attempt: number }> = [];

  const claims = (sub: string, bindings: Array<{ project: string; role: Role }>, orgAdmin = false) => ({ sub, bindings, orgAdmin });
  const stateOf = async (jobId: string) => (await editor.getJob({ jobId })).job!;
  const untilState = (jobId: string, state: JobState) => eventually(async () => expect(JobState[(await stateOf(jobId)).state]).toBe(JobState[state]));

  beforeAll(async () => {
    database = await databaseFor();
    configDir = mkdtempSync(join(tmpdir(), 'trellis-compute-spec-'));
    writeFileSync(join(configDir, 'trellis.yaml'), 'compute:\n  gpu-a:\n    plugin: compute-memory\n    config:\n      gpus: 4\n  gpu-b:\n    plugin: compute-memory\n    config:\n      gpus: 4\n');
    platform = await TestPlatform.start(
      { ...database.env, TRELLIS_CONFIG: join(configDir, 'trellis.yaml'), TRELLIS_COMPUTE_ADMISSION_INTERVAL_MS: '60000' },
      { plugins: [memoryComputePlugin] },
    );
    subscription = await platform.runtime.bus.subscribe({
      durable: 'compute-spec',
      subject: 'trellis.compute.v1.job.*',
      handler: async (envelope) => {
        const event = fromBinary(JobEventSchema, envelope.payload);
        events.push({ subject: envelope.subject.split('.').at(-1)!, jobId: event.jobId, attempt: event.attempt });
      },
    });
    service = await platform.startService(computeService);
    admin = await platform.client(QueueServiceDesc, service.grpcAddress, claims('ada', [], true));
    editorQueues = await platform.client(QueueServiceDesc, service.grpcAddress, claims('erin', [{ project: 'p1', role: 'editor' }]));
    viewerQueues = await platform.client(QueueServiceDesc, service.grpcAddress, claims('vic', [{ project: 'p1', role: 'viewer' }]));
    editor = await platform.client(JobServiceDesc, service.grpcAddress, claims('erin', [{ project: 'p1', role: 'editor' }, { project: 'p2', role: 'editor' }]));
    viewer = await platform.client(JobServiceDesc, service.grpcAddress, claims('vic', [{ project: 'p1', role: 'viewer' }]));
    outsider = await platform.client(JobServiceDesc, service.grpcAddress, claims('oscar', [{ project: 'p9', role: 'owner' }]));
    await admin.createQueue({ queue: { name: 'main', cluster: 'gpu-a', preemption: { reclaimWithinCohort: ReclaimWithinCohort.NEVER } } });
    await admin.setGrant({ queue: 'main', projectId: 'p1', quotas: [{ resource: 'cpu', nominal: 8000n }, { resource: 'memory', nominal: BigInt(32 * 1024 ** 3) }] });
    await admin.createQueue({ queue: { name: 'gpus', cluster: 'gpu-a' } });
    await admin.setGrant({
      queue: 'gpus',
      projectId: 'p2',
      quotas: [{ resource: 'cpu', nominal: 8000n }, { resource: 'memory', nominal: BigInt(32 * 1024 ** 3) }, { resource: 'gpu/nvidia-h100', nominal: 2n, borrowingLimit: 0n }],
    });
  });

  afterAll(async () => {
    await subscription?.stop();
    await platform?.stop();
    await database?.cleanup();
    rmSync(configDir, { recursive: true, force: true });
  });

  it('answers UNAUTHENTICATED on every method without a token', async () => {
    const results = await callEveryMethodWithoutToken(computeService.grpcServices, service.grpcAddress);
    expect(results.filter((result) => result.code !== status.UNAUTHENTICATED)).toEqual([]);
  });

  it('lists the clusters with the capacity their backends report, GPUs by type', async () => {
    const clusters = await platform.client(ClusterServiceDesc, service.grpcAddress, claims('vic', [{ project: 'p1', role: 'viewer' }]));
    const { clusters: listed } = await clusters.listClusters({});
    expect(listed.map(({ name, plugin, healthy }) => ({ name, plugin, healthy }))).toEqual([
      { name: 'gpu-a', plugin: 'compute-memory', healthy: true },
      { name: 'gpu-b', plugin: 'compute-memory', healthy: true },
    ]);
    expect(Object.fromEntries(listed[0].capacity.map(({ resource, amount }) => [resource, amount]))).toEqual({ cpu: 8000n, memory: BigInt(32 * 1024 ** 3), 'gpu/nvidia-h100': 4n });
    expect((await failure(clusters.getCluster({ name: 'nope' })))?.code).toBe(status.NOT_FOUND);
  });

  it('lets org admins alone change queues and grants, and members read their own project\'s grants', async () => {
    const denied = await failure(editorQueues.createQueue({ queue: { name: 'mine', cluster: 'gpu-a' } }));
    expect(denied?.code).toBe(status.PERMISSION_DENIED);
    expect(denied?.details).toContain('org admins');
    expect((await failure(admin.createQueue({ queue: { name: 'main', cluster: 'gpu-a' } })))?.code).toBe(status.ALREADY_EXISTS);
    expect((await failure(admin.createQueue({ queue: { name: 'Bad Name', cluster: 'gpu-a' } })))?.details).toContain('queue.name');
    expect((await failure(admin.createQueue({ queue: { name: 'other', cluster: 'nowhere' } })))?.code).toBe(status.NOT_FOUND);
    const updated = await admin.updateQueue({ queue: { name: 'main', cohort: 'shared' }, updateMask: { paths: ['cohort'] } });
    expect(updated.queue).toMatchObject({ name: 'main', cluster: 'gpu-a', cohort: 'shared' });
    expect((await viewerQueues.getGrant({ queue: 'main', projectId: 'p1' })).grant?.quotas.map(({ resource }) => resource)).toEqual(['cpu', 'memory']);
    expect((await failure(viewerQueues.getGrant({ queue: 'gpus', projectId: 'p2' })))?.code).toBe(status.NOT_FOUND);
    expect((await viewerQueues.listGrants({ queue: 'gpus' })).grants).toEqual([]);
    expect((await admin.listGrants({ queue: 'gpus' })).grants.map(({ projectId }) => projectId)).toEqual(['p2']);
    expect((await failure(admin.setGrant({ queue: 'main', projectId: 'p1', quotas: [{ resource: 'disk', nominal: 1n }] })))?.details).toContain('quotas[0].resource');

    await admin.createQueue({ queue: { name: 'short-lived', cluster: 'gpu-a' } });
    await admin.setGrant({ queue: 'short-lived', projectId: 'p1', quotas: [{ resource: 'cpu', nominal: 1000n }] });
    await admin.deleteGrant({ queue: 'short-lived', projectId: 'p1' });
    expect((await failure(viewerQueues.getGrant({ queue: 'short-lived', projectId: 'p1' })))?.code).toBe(status.NOT_FOUND);
    await admin.deleteQueue({ name: 'short-lived' });
    expect((await failure(viewerQueues.getQueue({ name: 'short-lived' })))?.code).toBe(status.NOT_FOUND);
  });

  it("shows another org's admins and members none of the org's queues and grants, and takes none of their jobs", async () => {
    const otherAdmin = await platform.client(QueueServiceDesc, service.grpcAddress, { sub: 'olga', org: 'org-2', orgAdmin: true });
    expect((await failure(otherAdmin.getQueue({ name: 'main' })))?.code).toBe(status.NOT_FOUND);
    expect((await otherAdmin.listQueues({})).queues).toEqual([]);
    expect((await failure(otherAdmin.getGrant({ queue: 'main', projectId: 'p1' })))?.code).toBe(status.NOT_FOUND);
    expect((await otherAdmin.listGrants({ queue: 'main' })).grants).toEqual([]);
    expect((await failure(otherAdmin.setGrant({ queue: 'main', projectId: 'p7', quotas: [] })))?.code).toBe(status.NOT_FOUND);
    expect((await failure(otherAdmin.deleteQueue({ name: 'main' })))?.code).toBe(status.NOT_FOUND);
    const otherEditor = await platform.client(JobServiceDesc, service.grpcAddress, { sub: 'otto', org: 'org-2', bindings: [{ project: 'p1', role: 'editor' }] });
    expect((await failure(otherEditor.submitJob({ projectId: 'p1', queue: 'main', spec: spec({}) })))?.code).toBe(status.NOT_FOUND);
  });

  it('refuses a job without a grant, with bad fields, or an unknown priority class, naming what is wrong', async () => {
    const ungranted = await failure(editor.submitJob({ projectId: 'p2', queue: 'main', spec: spec({}) }));
    expect(ungranted?.code).toBe(status.FAILED_PRECONDITION);
    expect(ungranted?.details).toContain('no grant on queue main');
    const cases: Array<[Partial<SpecInit>, string]> = [
      [{ command: [], image: '' }, 'spec.command'],
      [{ replicas: 1000 }, 'spec.replicas'],
      [{ env: { TRELLIS_JOB_ID: 'x' } }, 'spec.env'],
      [{ inputs: [{ reference: 's3://bucket/file' }] }, 'spec.inputs[0].reference'],
      [{ resources: { gpuType: 'nvidia-h100' } }, 'spec.resources.gpu_type'],
      [{ retries: { maxRetries: 11 } }, 'spec.retries.max_retries'],
      [{ priorityClass: 'urgent' }, 'spec.priority_class'],
    ];
    for (const [fields, field] of cases) {
      const refused = await failure(editor.submitJob({ projectId: 'p1', queue: 'main', spec: spec(fields) }));
      expect({ field, code: refused?.code, named: refused?.details.includes(field) }).toEqual({ field, code: status.INVALID_ARGUMENT, named: true });
    }
    expect((await failure(viewer.submitJob({ projectId: 'p1', queue: 'main', spec: spec({}) })))?.code).toBe(status.PERMISSION_DENIED);
  });

  it('runs a job to its end, recording the attempt, its events in order, and its logs', async () => {
    const { job } = await editor.submitJob({ projectId: 'p1', queue: 'main', spec: spec({ command: ['echo', 'hello', 'world'], replicas: 2 }), requestId: 'run-once' });
    expect((await editor.submitJob({ projectId: 'p1', queue: 'main', spec: spec({}), requestId: 'run-once' })).job?.id).toBe(job!.id);
    await untilState(job!.id, JobState.SUCCEEDED);
    const done = await stateOf(job!.id);
    expect(done.attempts).toHaveLength(1);
    expect(done.attempts[0]).toMatchObject({ number: 1, state: AttemptState.SUCCEEDED, exitCode: 0 });
    expect(done.attempts[0].backendJobId).not.toBe('');
    await eventually(() => expect(events.filter((event) => event.jobId === job!.id).map((event) => event.subject)).toEqual(['queued', 'admitted', 'running', 'succeeded']));
    const lines: string[] = [];
    for await (const line of viewer.streamJobLogs({ jobId: job!.id, follow: true })) lines.push(`${line.replica}:${line.line}`);
    expect(lines.sort()).toEqual(['0:hello world', '1:hello world']);
    expect((await failure(outsider.getJob({ jobId: job!.id })))?.code).toBe(status.NOT_FOUND);
    expect((await viewer.listJobs({ projectId: 'p1', state: JobState.SUCCEEDED })).jobs.map(({ id }) => id)).toContain(job!.id);
  });

  it('keeps a job queued with the reason while its quota is used, and admits it once a job is cancelled', async () => {
    const holder = (await editor.submitJob({ projectId: 'p2', queue: 'gpus', spec: spec({ command: ['sleep', '600'], replicas: 2, resources: { gpus: 1 } }) })).job!;
    await untilState(holder.id, JobState.RUNNING);
    expect((await stateOf(holder.id)).gpuType).toBe('nvidia-h100');
    const waiting = (await editor.submitJob({ projectId: 'p2', queue: 'gpus', spec: spec({ resources: { gpus: 1, gpuType: 'nvidia-h100' } }) })).job!;
    await eventually(async () => expect((await stateOf(waiting.id)).reason).toMatch(/^waiting: .*gpu\/nvidia-h100/));
    expect((await stateOf(waiting.id)).state).toBe(JobState.QUEUED);
    const usage = (await admin.getGrant({ queue: 'gpus', projectId: 'p2' })).grant!.usage;
    expect(usage.find(({ resource }) => resource === 'gpu/nvidia-h100')?.amount).toBe(2n);
    expect((await failure(admin.deleteQueue({ name: 'gpus' })))?.code).toBe(status.FAILED_PRECONDITION);
    expect((await editor.cancelJob({ jobId: holder.id })).job?.state).toBe(JobState.CANCELLED);
    await untilState(waiting.id, JobState.SUCCEEDED);
    await eventually(async () => expect((await stateOf(holder.id)).attempts[0].state).toBe(AttemptState.CANCELLED));
    expect((await stateOf(holder.id)).state).toBe(JobState.CANCELLED);
  });

  it('retries a failed job as its policy says, then fails it with the reason', async () => {
    const { job } = await editor.submitJob({ projectId: 'p1', queue: 'main', spec: spec({ command: ['exit', '3'], retries: { maxRetries: 1, backoff: { seconds: 0n } } }) });
    await untilState(job!.id, JobState.FAILED);
    const failed = await stateOf(job!.id);
    expect(failed.attempts.map(({ number, state, exitCode }) => ({ number, state, exitCode }))).toEqual([
      { number: 1, state: AttemptState.FAILED, exitCode: 3 },
      { number: 2, state: AttemptState.FAILED, exitCode: 3 },
    ]);
    expect(failed.reason).toMatch(/^failed: /);
  });

  it('stops an attempt at its timeout and fails the job', async () => {
    const { job } = await editor.submitJob({ projectId: 'p1', queue: 'main', spec: spec({ command: ['sleep', '600'], timeout: { nanos: 200_000_000 } }) });
    await untilState(job!.id, JobState.FAILED);
    expect((await stateOf(job!.id)).attempts[0]).toMatchObject({ state: AttemptState.FAILED, reason: 'timed out after 0.2 s' });
  });

  it('lends idle quota to another project of the cohort, and preempts the borrower when its owner reclaims it', async () => {
    const quotas = (gpus: bigint) => [{ resource: 'cpu', nominal: 4000n }, { resource: 'memory', nominal: 16n * 1024n ** 3n }, { resource: 'gpu/nvidia-h100', nominal: gpus }];
    await admin.createQueue({ queue: { name: 'team-a', cluster: 'gpu-b', cohort: 'shared' } });
    await admin.createQueue({ queue: { name: 'team-b', cluster: 'gpu-b', cohort: 'shared', preemption: { reclaimWithinCohort: ReclaimWithinCohort.ANY } } });
    await admin.setGrant({ queue: 'team-a', projectId: 'p1', quotas: quotas(2n) });
    await admin.setGrant({ queue: 'team-b', projectId: 'p2', quotas: quotas(2n) });

    const borrower = (await editor.submitJob({ projectId: 'p1', queue: 'team-a', spec: spec({ command: ['sleep', '600'], resources: { gpus: 4 } }) })).job!;
    await untilState(borrower.id, JobState.RUNNING);
    expect((await stateOf(borrower.id)).borrowing).toBe(true);

    const owner = (await editor.submitJob({ projectId: 'p2', queue: 'team-b', spec: spec({ command: ['sleep', '600'], resources: { gpus: 2 } }) })).job!;
    await untilState(owner.id, JobState.RUNNING);
    const preempted = await stateOf(borrower.id);
    expect(preempted.state).toBe(JobState.QUEUED);
    expect(preempted.reason).toContain(`preempted by job ${owner.id}`);
    await eventually(async () => expect((await stateOf(borrower.id)).attempts[0]).toMatchObject({ state: AttemptState.CANCELLED }));
    await eventually(() => expect(events.filter((event) => event.jobId === borrower.id).map((event) => event.subject)).toEqual(['queued', 'admitted', 'running', 'queued']));

    // Once the owner's job ends, the borrower is admitted again and runs as its second attempt.
    await editor.cancelJob({ jobId: owner.id });
    await untilState(borrower.id, JobState.RUNNING);
    expect((await stateOf(borrower.id)).attempts.map(({ number }) => number)).toEqual([1, 2]);
    await editor.cancelJob({ jobId: borrower.id });
  });
});

import { type MessageInitShape } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { statusDetailsOf, type GrpcCallError, type GrpcClient, type RunningService } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import { JobServiceDesc, JobSpecSchema, JobState, PlacementPolicy, PluginInstanceServiceDesc, PluginKind, QueueServiceDesc, type Job } from '@trellis/proto';
import { eventually, serviceDatabases, type ServiceDatabase } from '@trellis/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeService } from '../compute.definition';
import { AttemptEntity, MAX_ATTEMPTS } from '../jobs/job.entity';
import { memoryClusters, memoryComputePlugin } from '../testing/memory-compute.plugin';

type SpecInit = Exclude<MessageInitShape<typeof JobSpecSchema>, { $typeName: string }>;

const failure = (call: Promise<unknown>) => call.then(() => undefined, (error: unknown) => error as GrpcCallError);
const reasonOf = (error: GrpcCallError | undefined) => (error?.metadata ? statusDetailsOf(error.metadata)?.reason : undefined);
const GiB = 1024 ** 3;

/** `cpus` CPUs for `seconds` seconds, in `replicas` replicas. */
const sleeper = (cpus: number, { replicas = 1, seconds = 600, ...rest }: Partial<SpecInit> & { seconds?: number } = {}): SpecInit =>
  ({ name: 'sleeper', command: ['sleep', String(seconds)], resources: { cpuMillis: BigInt(cpus * 1000), memoryBytes: BigInt(GiB) }, replicas, ...rest }) as SpecInit;

const CLUSTERS = {
  small: { cpus: 2 },
  east: { cpus: 4 },
  west: { cpus: 4, images: true },
  flaky: { cpus: 2 },
};

describe.each(serviceDatabases('compute'))('one queue across clusters (%s)', (_database, databaseFor) => {
  let database: ServiceDatabase;
  let platform: TestPlatform;
  let service: RunningService;
  let configDir: string;
  let admin: GrpcClient<(typeof QueueServiceDesc)['method']>;
  let instances: GrpcClient<(typeof PluginInstanceServiceDesc)['method']>;
  let jobs: GrpcClient<(typeof JobServiceDesc)['method']>;
  let submitted: string[] = [];

  const getJob = async (jobId: string): Promise<Job> => (await jobs.getJob({ jobId })).job!;
  const submit = async (queue: string, spec: SpecInit, projectId = 'p1') => {
    const { job } = await jobs.submitJob({ projectId, queue, spec });
    submitted.push(job!.id);
    return job!.id;
  };
  const untilState = (jobId: string, state: JobState) =>
    eventually(async () => {
      const job = await getJob(jobId);
      expect(`${JobState[job.state]} ${job.reason}`).toMatch(new RegExp(`^${JobState[state]} `));
      return job;
    });
  /** Where each attempt of the job ran, and why. */
  const attemptsOf = async (jobId: string) => (await getJob(jobId)).attempts.map(({ number, cluster, placement, reason }) => ({ number, cluster, placement, reason }));
  /** The backend jobs of the job on each memory cluster: how often it was started there. */
  const runsOf = async (jobId: string) => {
    const runs: Record<string, string[]> = {};
    for (const [name, cluster] of memoryClusters) {
      const found = await cluster.backend.list({ labels: { 'trellis-job': jobId } });
      if (found.length) runs[name] = found.map((summary) => summary.state);
    }
    return runs;
  };
  const grant = (queue: string, cpus: number, projectId = 'p1', borrowingLimit?: bigint) =>
    admin.setGrant({ queue, projectId, quotas: [{ resource: 'cpu', nominal: BigInt(cpus * 1000), borrowingLimit }, { resource: 'memory', nominal: BigInt(64 * GiB) }] });

  beforeAll(async () => {
    database = await databaseFor();
    configDir = mkdtempSync(join(tmpdir(), 'trellis-clusters-spec-'));
    const yaml = Object.entries(CLUSTERS).map(([name, config]) => `  ${name}:\n    plugin: compute-memory\n    config: ${JSON.stringify(config)}\n`);
    writeFileSync(join(configDir, 'trellis.yaml'), `compute:\n${yaml.join('')}`);
    platform = await TestPlatform.start(
      { ...database.env, TRELLIS_CONFIG: join(configDir, 'trellis.yaml'), TRELLIS_COMPUTE_ADMISSION_INTERVAL_MS: '200', TRELLIS_COMPUTE_CAPACITY_CACHE_MS: '0' },
      { plugins: [memoryComputePlugin] },
    );
    service = await platform.startService(computeService);
    admin = await platform.client(QueueServiceDesc, service.grpcAddress, { sub: 'ada', bindings: [], orgAdmin: true });
    instances = await platform.client(PluginInstanceServiceDesc, service.grpcAddress, { sub: 'ada', bindings: [], orgAdmin: true });
    jobs = await platform.client(JobServiceDesc, service.grpcAddress, { sub: 'erin', bindings: [{ project: 'p1', role: 'editor' }, { project: 'p2', role: 'editor' }] });
  });

  afterEach(async () => {
    for (const cluster of memoryClusters.values()) Object.assign(cluster, { answering: true, submitting: true });
    await Promise.all(submitted.map((jobId) => jobs.cancelJob({ jobId }).catch(() => undefined)));
    submitted = [];
  });

  afterAll(async () => {
    await platform?.stop();
    await database?.cleanup();
    rmSync(configDir, { recursive: true, force: true });
  });

  it('takes a queue on several clusters with cost weights and a policy, and refuses bad ones with the field at fault', async () => {
    const { queue } = await admin.createQueue({ queue: { name: 'spread', clusters: [{ name: 'east' }, { name: 'west', costWeight: 2.5 }], placement: PlacementPolicy.CHEAPEST } });
    expect(queue).toMatchObject({ cluster: 'east', clusters: [{ name: 'east', costWeight: 0 }, { name: 'west', costWeight: 2.5 }], placement: PlacementPolicy.CHEAPEST });
    const { queue: old } = await admin.createQueue({ queue: { name: 'one-cluster', cluster: 'small' } });
    expect(old).toMatchObject({ cluster: 'small', clusters: [{ name: 'small', costWeight: 0 }], placement: PlacementPolicy.FIRST_FIT });

    const refused = async (clusters: Array<{ name: string; costWeight?: number }>, placement = PlacementPolicy.FIRST_FIT) => {
      const error = await failure(admin.createQueue({ queue: { name: 'bad', clusters, placement } }));
      return { code: error?.code, details: error?.details };
    };
    expect(await refused([])).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('queue.clusters') });
    expect(await refused([{ name: 'east' }, { name: 'east' }])).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('queue.clusters[1].name') });
    expect(await refused(Array.from({ length: 17 }, () => ({ name: 'east' })))).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/queue\.clusters.* 16/) });
    for (const costWeight of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(await refused([{ name: 'east', costWeight }])).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('queue.clusters[0].cost_weight') });
    }
    expect(await refused([{ name: 'east' }], 9 as PlacementPolicy)).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('queue.placement') });
    const missing = await failure(admin.createQueue({ queue: { name: 'bad', clusters: [{ name: 'east' }, { name: 'mars' }] } }));
    expect(missing?.code).toBe(status.NOT_FOUND);
    expect(reasonOf(missing)).toBe('CLUSTER_NOT_FOUND');
    expect(missing?.details).toContain('queue.clusters[1].name');

    const { queue: changed } = await admin.updateQueue({ queue: { name: 'spread', clusters: [{ name: 'west' }], placement: PlacementPolicy.LEAST_LOADED }, updateMask: { paths: ['clusters', 'placement'] } });
    expect(changed).toMatchObject({ cluster: 'west', clusters: [{ name: 'west' }], placement: PlacementPolicy.LEAST_LOADED });
    expect((await failure(admin.updateQueue({ queue: { name: 'spread', clusters: [{ name: 'mars' }] }, updateMask: { paths: ['clusters'] } })))?.code).toBe(status.NOT_FOUND);
  });

  it('places by FIRST_FIT in the queue order, and runs a gang whole on one cluster, never split', async () => {
    await admin.createQueue({ queue: { name: 'first-fit', clusters: [{ name: 'small' }, { name: 'east' }] } });
    await grant('first-fit', 16);
    const first = await submit('first-fit', sleeper(2));
    await untilState(first, JobState.RUNNING);
    const second = await submit('first-fit', sleeper(1));
    await untilState(second, JobState.RUNNING);
    // 3 replicas of 1 CPU: small has none free, east has 3 of 4 free: the gang goes to east whole.
    const gang = await submit('first-fit', sleeper(1, { replicas: 3 }));
    await untilState(gang, JobState.QUEUED);
    await jobs.cancelJob({ jobId: second });
    await untilState(gang, JobState.RUNNING);

    expect((await attemptsOf(first))[0]).toMatchObject({ cluster: 'small', placement: expect.stringContaining('small') });
    expect((await attemptsOf(second))[0]).toMatchObject({ cluster: 'east', placement: expect.stringContaining('east') });
    expect((await attemptsOf(gang)).map(({ cluster }) => cluster)).toEqual(['east']);
    const [backendJob] = await memoryClusters.get('east')!.backend.list({ labels: { 'trellis-job': gang } });
    expect((await memoryClusters.get('east')!.backend.status(backendJob.jobId)).state).toBe('running');
    expect(await runsOf(gang)).toEqual({ east: ['running'] });
  });

  it('places by LEAST_LOADED on the cluster least used once the job is on it, and by CHEAPEST on the lowest weighted share', async () => {
    await admin.createQueue({ queue: { name: 'balanced', clusters: [{ name: 'east' }, { name: 'west' }], placement: PlacementPolicy.LEAST_LOADED } });
    await grant('balanced', 16);
    const one = await submit('balanced', sleeper(1));
    await untilState(one, JobState.RUNNING);
    const two = await submit('balanced', sleeper(1));
    await untilState(two, JobState.RUNNING);
    expect([(await attemptsOf(one))[0].cluster, (await attemptsOf(two))[0].cluster]).toEqual(['east', 'west']);

    await admin.createQueue({ queue: { name: 'thrifty', clusters: [{ name: 'east', costWeight: 3 }, { name: 'west', costWeight: 1 }], placement: PlacementPolicy.CHEAPEST } });
    await grant('thrifty', 16);
    const cheap = await submit('thrifty', sleeper(1));
    await untilState(cheap, JobState.RUNNING);
    expect((await attemptsOf(cheap))[0]).toMatchObject({ cluster: 'west', placement: expect.stringContaining('west') });
  });

  it('places a job only on a cluster whose backend can run it, and says why when none of the queue can', async () => {
    await admin.createQueue({ queue: { name: 'images', clusters: [{ name: 'small' }, { name: 'west' }] } });
    await grant('images', 16);
    const image = await submit('images', sleeper(1, { image: 'python:3.12' }));
    await untilState(image, JobState.RUNNING);
    expect((await attemptsOf(image))[0].cluster).toBe('west');

    await admin.createQueue({ queue: { name: 'commands-only', clusters: [{ name: 'small' }, { name: 'east' }] } });
    await grant('commands-only', 16);
    const stuck = await submit('commands-only', sleeper(1, { image: 'python:3.12' }));
    const waiting = await eventually(async () => {
      const job = await getJob(stuck);
      expect(job.reason).toMatch(/^waiting: no cluster of queue commands-only can run the job: small: .*container images.*; east: .*container images/);
      return job;
    });
    expect(JobState[waiting.state]).toBe('QUEUED');
  });

  it("keeps each project's quota across the queue's clusters", async () => {
    await admin.createQueue({ queue: { name: 'shared', clusters: [{ name: 'east' }, { name: 'west' }], placement: PlacementPolicy.LEAST_LOADED } });
    await grant('shared', 3, 'p1', 0n);
    await grant('shared', 8, 'p2');
    const mine = await submit('shared', sleeper(2));
    await untilState(mine, JobState.RUNNING);
    // Both clusters have room, but p1 has 1 of its 3 CPUs left on the queue.
    const over = await submit('shared', sleeper(2));
    const waiting = await untilState(over, JobState.QUEUED);
    await eventually(async () => expect((await getJob(over)).reason).toMatch(/^waiting: .*project p1 uses 2\/3 cpu of its quota on queue shared/));
    expect(waiting.attempts).toEqual([]);
    const theirs = await submit('shared', sleeper(2), 'p2');
    await untilState(theirs, JobState.RUNNING);
    await jobs.cancelJob({ jobId: mine });
    await untilState(over, JobState.RUNNING);
  });

  it('keeps placed jobs where they are when the queue changes clusters', async () => {
    await admin.createQueue({ queue: { name: 'moving', clusters: [{ name: 'east' }] } });
    await grant('moving', 16);
    const before = await submit('moving', sleeper(1));
    await untilState(before, JobState.RUNNING);
    await admin.updateQueue({ queue: { name: 'moving', clusters: [{ name: 'west' }] }, updateMask: { paths: ['clusters'] } });
    const after = await submit('moving', sleeper(1));
    await untilState(after, JobState.RUNNING);
    expect((await attemptsOf(after))[0].cluster).toBe('west');
    expect(await getJob(before)).toMatchObject({ state: JobState.RUNNING, attempts: [expect.objectContaining({ cluster: 'east' })] });
    expect(await runsOf(before)).toEqual({ east: ['running'] });
  });

  it('moves jobs off a cluster that stops answering: unstarted ones placed elsewhere, running ones retried, each run once', async () => {
    await admin.createQueue({ queue: { name: 'failover', clusters: [{ name: 'flaky' }, { name: 'east' }] } });
    await grant('failover', 16);
    const flaky = memoryClusters.get('flaky')!;
    const running = await submit('failover', sleeper(1, { retries: { maxRetries: 1, backoff: { seconds: 0n, nanos: 1_000_000 } } }));
    await untilState(running, JobState.RUNNING);
    // flaky takes no submission now, though it passes its health checks: the next job is placed there and waits to start.
    flaky.submitting = false;
    const unstarted = await submit('failover', sleeper(1));
    await eventually(async () => expect(await attemptsOf(unstarted)).toEqual([expect.objectContaining({ cluster: 'flaky' })]));
    expect(JobState[(await getJob(unstarted)).state]).toBe('ADMITTED');

    flaky.answering = false;
    const moved = await untilState(unstarted, JobState.RUNNING);
    expect(moved.attempts.map(({ cluster, state, reason }) => ({ cluster, state, reason }))).toEqual([
      { cluster: 'flaky', state: expect.anything(), reason: expect.stringMatching(/^moved: cluster flaky stopped answering/) },
      { cluster: 'east', state: expect.anything(), reason: '' },
    ]);
    const retried = await untilState(running, JobState.RUNNING);
    expect(retried.attempts.map(({ cluster, reason }) => ({ cluster, reason }))).toEqual([
      { cluster: 'flaky', reason: expect.stringMatching(/^moved: cluster flaky stopped answering/) },
      { cluster: 'east', reason: '' },
    ]);

    // flaky answers again: what still ran there for the moved attempt is cancelled; nothing runs twice.
    flaky.answering = true;
    flaky.submitting = true;
    await eventually(async () => expect(await runsOf(running)).toEqual({ flaky: ['cancelled'], east: ['running'] }));
    expect(await runsOf(unstarted)).toEqual({ east: ['running'] });
  });

  it('fails a job moved off its cluster at its last attempt, saying so, so its record stays bounded', async () => {
    await admin.createQueue({ queue: { name: 'bounded', clusters: [{ name: 'flaky' }, { name: 'east' }] } });
    await grant('bounded', 0, 'p1', 0n);
    const job = await submit('bounded', sleeper(1));
    // The job was moved or preempted 63 times already: its next attempt is its last.
    const moves = Array.from({ length: MAX_ATTEMPTS - 1 }, (_, index) => ({
      jobId: job, number: index + 1, state: 'CANCELLED' as const, cluster: 'flaky', placement: '', backendJobId: '', credentialId: '', stop: null,
      reason: 'moved: cluster flaky stopped answering (an earlier run)', exitCode: null, createdAt: Date.now(), startedAt: null, finishedAt: Date.now(),
    }));
    await service.dataSource.getRepository(AttemptEntity).insert(moves);
    memoryClusters.get('flaky')!.submitting = false;
    await grant('bounded', 16);
    await eventually(async () => expect(await attemptsOf(job)).toHaveLength(MAX_ATTEMPTS));

    memoryClusters.get('flaky')!.answering = false;
    const failed = await untilState(job, JobState.FAILED);
    expect(failed.reason).toMatch(new RegExp(`^failed: moved: cluster flaky stopped answering .*; attempt ${MAX_ATTEMPTS} was the job's last \\(a job has at most ${MAX_ATTEMPTS} attempts\\)$`));
    expect(failed.attempts).toHaveLength(MAX_ATTEMPTS);
    expect(await runsOf(job)).toEqual({});
  });

  it('moves jobs off a cluster whose compute instance is deleted', async () => {
    await instances.createPluginInstance({ service: 'compute', kind: PluginKind.COMPUTE, name: 'spare', plugin: 'compute-memory', config: { cpus: 2 } });
    await admin.createQueue({ queue: { name: 'ephemeral', clusters: [{ name: 'spare' }, { name: 'west' }] } });
    await grant('ephemeral', 16);
    const running = await submit('ephemeral', sleeper(1, { retries: { maxRetries: 1, backoff: { seconds: 0n, nanos: 1_000_000 } } }));
    await untilState(running, JobState.RUNNING);
    memoryClusters.get('spare')!.submitting = false;
    const unstarted = await submit('ephemeral', sleeper(1));
    await eventually(async () => expect(await attemptsOf(unstarted)).toEqual([expect.objectContaining({ cluster: 'spare' })]));

    await instances.deletePluginInstance({ service: 'compute', kind: PluginKind.COMPUTE, name: 'spare' });
    for (const jobId of [unstarted, running]) {
      const job = await untilState(jobId, JobState.RUNNING);
      expect(job.attempts.map(({ cluster, reason }) => ({ cluster, reason }))).toEqual([
        { cluster: 'spare', reason: expect.stringMatching(/^moved: cluster spare stopped answering/) },
        { cluster: 'west', reason: '' },
      ]);
    }
    expect((await runsOf(unstarted)).west).toEqual(['running']);
  });
});

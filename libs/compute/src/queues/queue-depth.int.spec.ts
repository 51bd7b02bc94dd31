import type { GrpcClient, RunningService } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import { JobServiceDesc, QueueServiceDesc } from '@trellis/proto';
import { eventually, serviceDatabases, type ServiceDatabase } from '@trellis/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeService } from '../compute.definition';
import { memoryComputePlugin } from '../testing/memory-compute.plugin';
import { QUEUE_JOBS_GAUGE } from './queue-depth.metrics';

type Jobs = GrpcClient<(typeof JobServiceDesc)['method']>;

const sleeping = { name: 'job', command: ['sleep', '600'] };

describe.each(serviceDatabases('compute'))('the depth of compute queues on /metrics (%s)', (_database, databaseFor) => {
  let database: ServiceDatabase;
  let platform: TestPlatform;
  let service: RunningService;
  let configDir: string;
  let editor: Jobs;

  /** The gauge's series as a scrape reads them: `queue state` -> jobs. */
  const depth = async () => {
    const metric = platform.runtime.metrics.registry.getSingleMetric(QUEUE_JOBS_GAUGE);
    if (!metric) throw new Error(`${QUEUE_JOBS_GAUGE} is not registered`);
    const { values } = await metric.get();
    return Object.fromEntries(values.map(({ labels, value }) => [`${labels['queue']} ${labels['state']}`, value]));
  };

  beforeAll(async () => {
    database = await databaseFor();
    configDir = mkdtempSync(join(tmpdir(), 'trellis-queue-depth-spec-'));
    writeFileSync(join(configDir, 'trellis.yaml'), 'compute:\n  local:\n    plugin: compute-memory\n');
    platform = await TestPlatform.start({ ...database.env, TRELLIS_CONFIG: join(configDir, 'trellis.yaml') }, { plugins: [memoryComputePlugin] });
    service = await platform.startService(computeService);
    const admin = await platform.client(QueueServiceDesc, service.grpcAddress, { sub: 'ada', orgAdmin: true });
    for (const name of ['waits', 'runs', 'idle']) await admin.createQueue({ queue: { name, cluster: 'local' } });
    // A nominal quota of 0 keeps every job of `waits` queued; `runs` has room for one job of the default size (one CPU, 1 GiB).
    await admin.setGrant({ queue: 'waits', projectId: 'p1', quotas: [{ resource: 'cpu', nominal: 0n }] });
    await admin.setGrant({ queue: 'runs', projectId: 'p1', quotas: [{ resource: 'cpu', nominal: 1000n }, { resource: 'memory', nominal: 1n << 30n }] });
    editor = await platform.client(JobServiceDesc, service.grpcAddress, { sub: 'erin', bindings: [{ project: 'p1', role: 'editor' }] });
  });

  afterAll(async () => {
    await platform?.stop();
    await database?.cleanup();
    rmSync(configDir, { recursive: true, force: true });
  });

  it('counts the jobs each queue holds by state, every queue with all four states, and follows them as they move', async () => {
    const zero = (queue: string) => ({ [`${queue} queued`]: 0, [`${queue} admitted`]: 0, [`${queue} starting`]: 0, [`${queue} running`]: 0 });
    expect(await depth()).toEqual({ ...zero('waits'), ...zero('runs'), ...zero('idle') });

    for (let index = 0; index < 3; index++) await editor.submitJob({ projectId: 'p1', queue: 'waits', spec: sleeping });
    const running = (await editor.submitJob({ projectId: 'p1', queue: 'runs', spec: sleeping })).job!;
    const second = (await editor.submitJob({ projectId: 'p1', queue: 'runs', spec: sleeping })).job!;

    await eventually(async () => expect(await depth()).toEqual({ ...zero('waits'), 'waits queued': 3, ...zero('runs'), 'runs running': 1, 'runs queued': 1, ...zero('idle') }));

    await editor.cancelJob({ jobId: running.id });
    await editor.cancelJob({ jobId: second.id });
    await eventually(async () => expect(await depth()).toEqual({ ...zero('waits'), 'waits queued': 3, ...zero('runs'), ...zero('idle') }));
  });
});

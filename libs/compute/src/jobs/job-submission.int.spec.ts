import { fromBinary } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import type { EventSubscription, GrpcCallError, GrpcClient, RunningService } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import { AuditEventSchema, JobEventSchema, JobServiceDesc, JobState, QueueServiceDesc } from '@trellis/proto';
import { eventually, serviceDatabases, type ServiceDatabase } from '@trellis/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeService } from '../compute.definition';
import { memoryComputePlugin } from '../testing/memory-compute.plugin';

type Jobs = GrpcClient<(typeof JobServiceDesc)['method']>;

const BURST = 40;
const spec = { name: 'job', command: ['echo', 'hello'] };

// Submissions that arrive together are written in one transaction (group commit): each still gets its own answer, event and audit record.
describe.each(serviceDatabases('compute'))('job submissions arriving together (%s)', (_database, databaseFor) => {
  let database: ServiceDatabase;
  let platform: TestPlatform;
  let service: RunningService;
  let subscriptions: EventSubscription[];
  let configDir: string;
  let editor: Jobs;
  const queued: string[] = [];
  const audited: string[] = [];

  beforeAll(async () => {
    database = await databaseFor();
    configDir = mkdtempSync(join(tmpdir(), 'trellis-submission-spec-'));
    writeFileSync(join(configDir, 'trellis.yaml'), 'compute:\n  local:\n    plugin: compute-memory\n');
    platform = await TestPlatform.start({ ...database.env, TRELLIS_CONFIG: join(configDir, 'trellis.yaml') }, { plugins: [memoryComputePlugin] });
    subscriptions = [
      await platform.runtime.bus.subscribe({
        durable: 'submission-spec-jobs',
        subject: 'trellis.compute.v1.job.queued',
        handler: async (envelope) => void queued.push(fromBinary(JobEventSchema, envelope.payload).jobId),
      }),
      await platform.runtime.bus.subscribe({
        durable: 'submission-spec-audit',
        subject: 'trellis.compute.v1.audit.recorded',
        handler: async (envelope) => void audited.push(fromBinary(AuditEventSchema, envelope.payload).resource),
      }),
    ];
    service = await platform.startService(computeService);
    const admin = await platform.client(QueueServiceDesc, service.grpcAddress, { sub: 'ada', orgAdmin: true });
    await admin.createQueue({ queue: { name: 'main', cluster: 'local' } });
    // A nominal quota of 0: every job stays queued, so the spec sees submissions alone.
    await admin.setGrant({ queue: 'main', projectId: 'p1', quotas: [{ resource: 'cpu', nominal: 0n }] });
    editor = await platform.client(JobServiceDesc, service.grpcAddress, {
      sub: 'erin',
      bindings: [
        { project: 'p1', role: 'editor' },
        { project: 'p2', role: 'editor' },
      ],
    });
  });

  afterAll(async () => {
    for (const subscription of subscriptions ?? []) await subscription.stop();
    await platform?.stop();
    await database?.cleanup();
    rmSync(configDir, { recursive: true, force: true });
  });

  it('makes one job of concurrent submissions with one request id, each other one its own, and refuses an ungranted one alone', async () => {
    const same = Array.from({ length: BURST }, () => editor.submitJob({ projectId: 'p1', queue: 'main', spec, requestId: 'once' }));
    const distinct = Array.from({ length: BURST }, (_, index) => editor.submitJob({ projectId: 'p1', queue: 'main', spec, requestId: `job-${index}` }));
    const ungranted = editor.submitJob({ projectId: 'p2', queue: 'main', spec }).then(
      () => undefined,
      (error: unknown) => error as GrpcCallError,
    );
    const [sameIds, distinctIds, refused] = await Promise.all([
      Promise.all(same).then((answers) => answers.map(({ job }) => job!.id)),
      Promise.all(distinct).then((answers) => answers.map(({ job }) => job!.id)),
      ungranted,
    ]);

    expect(new Set(sameIds).size).toBe(1);
    expect(new Set(distinctIds).size).toBe(BURST);
    expect(distinctIds).not.toContain(sameIds[0]);
    expect(refused?.code).toBe(status.FAILED_PRECONDITION);
    const created = [sameIds[0], ...distinctIds].sort();
    const listed = (await editor.listJobs({ projectId: 'p1', pageSize: 100 })).jobs;
    expect(listed.map(({ id }) => id).sort()).toEqual(created);
    expect(listed.every(({ state }) => state === JobState.QUEUED)).toBe(true);
    await eventually(() => expect([...queued].sort()).toEqual(created));
    await eventually(() => expect(created.filter((id) => audited.filter((resource) => resource.endsWith(`/${id}`)).length !== 1)).toEqual([]));
  });

  it('makes one job of submissions with one request id that keep arriving while earlier ones are being written', async () => {
    const answers: Array<Promise<string>> = [];
    // Waves a turn of the event loop apart: on PostgreSQL later waves arrive while batches with the same request id are open.
    for (let wave = 0; wave < 8; wave++) {
      for (let index = 0; index < 5; index++) answers.push(editor.submitJob({ projectId: 'p1', queue: 'main', spec, requestId: 'waves' }).then(({ job }) => job!.id));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const ids = new Set(await Promise.all(answers));

    expect(ids.size).toBe(1);
    const [id] = ids;
    expect((await editor.getJob({ jobId: id })).job?.state).toBe(JobState.QUEUED);
    await eventually(() => expect(queued.filter((queuedId) => queuedId === id)).toHaveLength(1));
  });
});

import 'reflect-metadata';
import { createGrpcClient, type RunningProcess } from '@trellis/platform';
import { DataServiceDesc, DatasetInputMode, IdentityServiceDesc, JobServiceDesc, JobState, PrincipalKind, QueueServiceDesc, Role, TokenServiceDesc } from '@trellis/proto';
import { eventually } from '@trellis/testing';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStandalone } from './spec-process';

const ADMIN_KEY = `trellis_00000000000000c1_${'D'.repeat(43)}`;

/** What the job does: reads its MOUNT input, writes into its DOWNLOAD copy, and tries to write into the MOUNT folder as a user who is not root (root ignores modes). */
const SCRIPT = [
  'cat "$TRELLIS_DATASET_CHURN_DIR/train.csv"',
  'echo "3,4" >> "$TRELLIS_DATASET_CHURN_1_DIR/train.csv" && echo "download written: $(tail -1 "$TRELLIS_DATASET_CHURN_1_DIR/train.csv")"',
  `setpriv --reuid=65534 --regid=65534 --clear-groups sh -c 'cat "$TRELLIS_DATASET_CHURN_DIR/train.csv" >/dev/null && touch "$TRELLIS_DATASET_CHURN_DIR/new" 2>/dev/null' && echo "mount written" || echo "mount refused a write"`,
  'echo "mount modes $(stat -c %a "$TRELLIS_DATASET_CHURN_DIR") $(stat -c %a "$TRELLIS_DATASET_CHURN_DIR/train.csv")"',
].join('\n');

/**
 * Dataset inputs as folders (standalone, jobs as real processes of compute-local): a version is fetched once into the cache with the submitter's credential, handed
 * read-only for MOUNT and as a writable copy for DOWNLOAD, reused by the next job, and a version
 * deleted before its job starts fails the attempt with the reason.
 */
describe('dataset inputs (standalone, compute-local)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-compute-inputs-'));
  const saved = { ...process.env };
  let running: RunningProcess;
  let token: string;
  let projectId: string;
  let datasetId: string;
  const address = (name: string) => running.services.find((service) => service.name === name)!.grpcAddress;
  const cache = () => join(dir, 'data', 'compute', 'datasets');

  beforeAll(async () => {
    // The job's unprivileged user must reach the cache.
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'trellis.yaml'), 'compute:\n  local:\n    plugin: compute-local\n    config:\n      pollIntervalMs: 100\n');
    running = await startStandalone(join(dir, 'data'), ADMIN_KEY, {
      TRELLIS_CONFIG: join(dir, 'trellis.yaml'),
      TRELLIS_COMPUTE_TRACKING_URI: '',
      TRELLIS_COMPUTE_ADMISSION_INTERVAL_MS: '200',
    });
    const tokens = createGrpcClient(TokenServiceDesc, address('governance'));
    const adminToken = async () => (await tokens.exchangeApiKey({ apiKey: ADMIN_KEY })).token;
    projectId = (await createGrpcClient(IdentityServiceDesc, address('governance'), { token: await adminToken() }).createProject({ name: 'vision' })).project!.id;
    // A token issued after the project exists names the admin's role in it.
    token = await adminToken();
    const data = createGrpcClient(DataServiceDesc, address('data'), { token });
    datasetId = (await data.createDataset({ projectId, name: 'churn' })).dataset!.id;
    const files = join(dir, 'churn');
    mkdirSync(files);
    writeFileSync(join(files, 'train.csv'), 'a,b\n1,2\n');
    const archive = execFileSync('tar', ['-C', files, '-c', '.']);
    await data.commitDatasetVersionTar([{ part: { case: 'header', value: { datasetId } } }, { part: { case: 'chunk', value: archive } }]);
    for (const queue of ['local', 'deleted', 'revoked']) {
      await createGrpcClient(QueueServiceDesc, address('compute'), { token }).createQueue({ queue: { name: queue, cluster: 'local' } });
      await grant(queue, queue === 'local');
    }
  }, 60_000);

  afterAll(async () => {
    await running?.stop();
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  /** Gives the project quota on the queue, or none, so that its jobs wait there. */
  const grant = (queue: string, open: boolean) =>
    createGrpcClient(QueueServiceDesc, address('compute'), { token }).setGrant({
      queue,
      projectId,
      quotas: [{ resource: 'cpu', nominal: open ? 8000n : 0n }, { resource: 'memory', nominal: open ? 32n * 1024n ** 3n : 0n }],
    });
  const jobs = (as = token) => createGrpcClient(JobServiceDesc, address('compute'), { token: as });
  const untilEnded = (jobId: string) =>
    eventually(async () => expect([JobState.SUCCEEDED, JobState.FAILED]).toContain((await jobs().getJob({ jobId })).job?.state), { timeoutMs: 30_000 });
  const logs = async (jobId: string) => {
    const lines: string[] = [];
    for await (const { line } of jobs().streamJobLogs({ jobId })) lines.push(line);
    return lines;
  };
  const inputs = [
    { reference: 'datasets:/churn/1', mode: DatasetInputMode.MOUNT },
    { reference: 'datasets:/churn/1', mode: DatasetInputMode.DOWNLOAD },
  ];

  it('hands a MOUNT input read-only and a DOWNLOAD input as a writable copy, fetched once for every job', async () => {
    const first = (await jobs().submitJob({ projectId, queue: 'local', spec: { name: 'read', command: ['sh', '-c', SCRIPT], inputs } })).job!.id;
    await untilEnded(first);
    expect((await jobs().getJob({ jobId: first })).job?.state).toBe(JobState.SUCCEEDED);
    expect(await logs(first)).toEqual(['a,b', '1,2', 'download written: 3,4', 'mount refused a write', 'mount modes 555 444']);
    const version = join(cache(), datasetId, '1');
    const inodes = () => [version, join(version, 'train.csv')].map((path) => statSync(path, { bigint: true }).ino);
    const fetched = inodes();

    const second = (await jobs().submitJob({ projectId, queue: 'local', spec: { name: 'read-again', command: ['sh', '-c', SCRIPT], inputs } })).job!.id;
    await untilEnded(second);
    // The copy the first job wrote to was its own: the second reads the version as it was.
    expect(await logs(second)).toEqual(['a,b', '1,2', 'download written: 3,4', 'mount refused a write', 'mount modes 555 444']);
    // Fetched once: the folder and file the first job read, not those of a second download.
    expect(inodes()).toEqual(fetched);
    await eventually(async () => expect(readdirSync(join(cache(), '.attempts'))).toEqual([]));
  }, 60_000);

  it('fails the attempt, naming the input, when its version was deleted before the job started', async () => {
    const data = createGrpcClient(DataServiceDesc, address('data'), { token });
    const files = join(dir, 'churn');
    await data.commitDatasetVersionTar([{ part: { case: 'header', value: { datasetId } } }, { part: { case: 'chunk', value: execFileSync('tar', ['-C', files, '-c', '.']) } }]);
    // No quota on the queue yet: the job waits, with its input resolved, until the version is gone.
    const { job } = await jobs().submitJob({ projectId, queue: 'deleted', spec: { name: 'late', command: ['true'], inputs: [{ reference: 'datasets:/churn/2' }] } });
    await data.deleteDatasetVersion({ datasetId, version: 2n });
    await grant('deleted', true);
    await untilEnded(job!.id);
    const ended = (await jobs().getJob({ jobId: job!.id })).job!;
    expect({ state: ended.state, reason: ended.reason }).toEqual({ state: JobState.FAILED, reason: expect.stringContaining('spec.inputs[0] datasets:/churn/2: the data service could not resolve it for the submitter') });
    expect(readdirSync(cache()).filter((name) => name !== '.attempts' && name !== '.partial')).toEqual([datasetId]);
    expect(readdirSync(join(cache(), datasetId))).toEqual(['1']);
  }, 60_000);

  it('refuses a cached version to a job whose submitter lost access to it before the job started', async () => {
    const identity = createGrpcClient(IdentityServiceDesc, address('governance'), { token });
    const bobId = (await identity.createPrincipal({ kind: PrincipalKind.USER, name: 'bob', displayName: 'Bob' })).principal!.id;
    await identity.setRoleBinding({ binding: { projectId, principalId: bobId, role: Role.EDITOR } });
    const tokens = createGrpcClient(TokenServiceDesc, address('governance'));
    const bobKey = (await createGrpcClient(TokenServiceDesc, address('governance'), { token }).createApiKey({ principalId: bobId, name: 'bob' })).secret;
    const bob = (await tokens.exchangeApiKey({ apiKey: bobKey })).token;
    const command = ['sh', '-c', 'cat "$TRELLIS_DATASET_CHURN_DIR/train.csv"'];
    const { job } = await jobs(bob).submitJob({ projectId, queue: 'revoked', spec: { name: 'bobs', command, inputs: [{ reference: 'datasets:/churn/1', mode: DatasetInputMode.MOUNT }] } });
    await identity.deleteRoleBinding({ projectId, principalId: bobId });
    await grant('revoked', true);
    await untilEnded(job!.id);
    const ended = (await jobs().getJob({ jobId: job!.id })).job!;
    // It never reached the backend: its one attempt has no backend job.
    expect({ state: ended.state, reason: ended.reason, backendJobIds: ended.attempts.map(({ backendJobId }) => backendJobId) }).toEqual({ state: JobState.FAILED, reason: expect.stringMatching(/^failed: the dataset inputs could not be fetched: .*not found among/), backendJobIds: [''] });
  }, 60_000);
});

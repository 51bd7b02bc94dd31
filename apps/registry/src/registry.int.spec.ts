import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import { status, type ServiceError } from '@grpc/grpc-js';
import { governanceService } from '@trellis/governance';
import type { GrpcClient, RunningService } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import storageFs from '@trellis/plugin-storage-fs';
import { ApprovalServiceDesc, ArtifactServiceDesc, ExperimentServiceDesc, ModelVersionStatus, RegistryServiceDesc, RunServiceDesc } from '@trellis/proto';
import { registryService } from '@trellis/registry';
import { trackingService } from '@trellis/tracking';

type Role = 'viewer' | 'editor' | 'admin' | 'owner';
type Clients = {
  registry: GrpcClient<(typeof RegistryServiceDesc)['method']>;
  runs: GrpcClient<(typeof RunServiceDesc)['method']>;
  artifacts: GrpcClient<(typeof ArtifactServiceDesc)['method']>;
  approvals: GrpcClient<(typeof ApprovalServiceDesc)['method']>;
};

const failure = async (call: Promise<unknown>) => (await call.then(() => undefined, (error: unknown) => error)) as ServiceError | undefined;

/** The registry with the services it calls, tracking and governance, in one process (SQLite). */
describe('registry with tracking and governance (SQLite, standalone kit)', () => {
  let platform: TestPlatform;
  let governance: RunningService;
  let tracking: RunningService;
  let registry: RunningService;
  let alice: Clients;
  let bob: Clients;
  let admin: Clients;
  let experimentId: string;

  const clientsFor = async (sub: string, bindings: Array<{ project: string; role: Role }>): Promise<Clients> => {
    const claims = { sub, bindings };
    return {
      registry: await platform.client(RegistryServiceDesc, registry.grpcAddress, claims),
      runs: await platform.client(RunServiceDesc, tracking.grpcAddress, claims),
      artifacts: await platform.client(ArtifactServiceDesc, tracking.grpcAddress, claims),
      approvals: await platform.client(ApprovalServiceDesc, governance.grpcAddress, claims),
    };
  };

  beforeAll(async () => {
    platform = await TestPlatform.start(
      { TRELLIS_GOVERNANCE_PORT: '0', TRELLIS_TRACKING_PORT: '0', TRELLIS_REGISTRY_PORT: '0' },
      { plugins: [storageFs] },
    );
    // Governance prints the bootstrap admin's key on its first start.
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      governance = await platform.startService(governanceService);
    } finally {
      process.stdout.write = write;
    }
    tracking = await platform.startService(trackingService);
    registry = await platform.startService(registryService);
    alice = await clientsFor('alice', [{ project: 'p1', role: 'editor' }, { project: 'p2', role: 'editor' }]);
    bob = await clientsFor('bob', [{ project: 'p1', role: 'editor' }]);
    admin = await clientsFor('ada', [{ project: 'p1', role: 'admin' }]);
    const experiments = await platform.client(ExperimentServiceDesc, tracking.grpcAddress, { sub: 'alice', bindings: [{ project: 'p1', role: 'editor' }] });
    experimentId = (await experiments.createExperiment({ projectId: 'p1', name: 'models' })).experiment!.id;
  });

  afterAll(async () => {
    await platform?.stop();
  });

  const newRun = async (client: Clients = alice, experiment = experimentId) => (await client.runs.createRun({ experimentId: experiment, runName: 'train' })).run!.info!.id;
  const upload = (runId: string, path: string, content: Buffer) =>
    alice.artifacts.uploadArtifact([
      { part: { case: 'header', value: { runId, path } } },
      // Chunks of 32 KiB, as a client streams a large file.
      ...Array.from({ length: Math.ceil(content.length / 32_768) || 1 }, (_, i) => ({ part: { case: 'chunk' as const, value: content.subarray(i * 32_768, (i + 1) * 32_768) } })),
    ]);
  const download = async (name: string, version: bigint, path: string, client = bob) => {
    const chunks: Buffer[] = [];
    for await (const piece of client.registry.downloadVersionFile({ projectId: 'p1', modelName: name, version, path })) chunks.push(Buffer.from(piece.chunk));
    return Buffer.concat(chunks);
  };
  // The deadline only turns a copy that never ends into a failure rather than a hung spec.
  const ready = async (name: string, version: bigint) => (await bob.registry.waitVersion({ projectId: 'p1', modelName: name, version }, { timeoutMs: 30_000 })).version!;
  /** Every entry of a directory, read `pageSize` at a time. */
  const paths = async (name: string, version: bigint, path = '', pageSize = 0) => {
    const found: string[] = [];
    let pageToken = '';
    do {
      const page = await bob.registry.listVersionFiles({ projectId: 'p1', modelName: name, version, path, pageSize, pageToken });
      found.push(...page.files.map((file) => (file.isDir ? `${file.path}/` : `${file.path} ${file.sizeBytes}`)));
      pageToken = page.nextPageToken;
    } while (pageToken);
    return found;
  };

  it("copies a run's directory into its own store, so the version outlives the run and its artifacts", async () => {
    const runId = await newRun();
    const weights = randomBytes(200_000);
    await upload(runId, 'model/model.onnx', weights);
    await upload(runId, 'model/conf/params.json', Buffer.from('{"depth":3}'));
    await upload(runId, 'model/empty.txt', Buffer.alloc(0));
    await upload(runId, 'metrics.json', Buffer.from('{}'));
    await alice.registry.createModel({ projectId: 'p1', name: 'churn' });

    const created = (await alice.registry.createVersion({ projectId: 'p1', modelName: 'churn', source: `runs:/${runId}/model`, format: 'onnx' })).version!;
    expect(created).toMatchObject({ version: 1n, status: ModelVersionStatus.PENDING, runId, source: `runs:/${runId}/model` });
    expect(created.storageUri).toMatch(/^registry:\/\/default\/models\/p1\/\d+\/1\/$/);
    // WaitVersion answers once the copy has ended.
    expect((await ready('churn', 1n)).status).toBe(ModelVersionStatus.READY);
    expect(await paths('churn', 1n)).toEqual(['conf/', 'empty.txt 0', 'model.onnx 200000']);
    expect(await paths('churn', 1n, '', 1)).toEqual(['conf/', 'empty.txt 0', 'model.onnx 200000']);
    const firstPage = await bob.registry.listVersionFiles({ projectId: 'p1', modelName: 'churn', version: 1n, pageSize: 2 });
    expect(firstPage.files.map((file) => file.path)).toEqual(['conf', 'empty.txt']);
    const otherListing = await failure(bob.registry.listVersionFiles({ projectId: 'p1', modelName: 'churn', version: 1n, path: 'conf', pageToken: firstPage.nextPageToken }));
    expect([otherListing?.code, otherListing?.details]).toEqual([status.INVALID_ARGUMENT, expect.stringMatching(/^page_token: /)]);
    expect((await failure(bob.registry.listVersionFiles({ projectId: 'p1', modelName: 'churn', version: 1n, pageSize: 1001 })))?.details).toContain('1000');
    expect(await paths('churn', 1n, 'conf')).toEqual(['conf/params.json 11']);
    expect((await download('churn', 1n, 'model.onnx')).equals(weights)).toBe(true);
    expect(await download('churn', 1n, 'empty.txt')).toHaveLength(0);

    await alice.artifacts.deleteArtifact({ runId, path: 'model' });
    await alice.runs.deleteRun({ runId });
    const gone = alice.artifacts.downloadArtifact({ runId, path: 'model/model.onnx' });
    expect((await failure((async () => { for await (const _ of gone) void _; })()))?.code).toBe(status.NOT_FOUND);
    expect((await download('churn', 1n, 'model.onnx')).equals(weights)).toBe(true);
    expect((await download('churn', 1n, 'conf/params.json')).toString()).toBe('{"depth":3}');
    const missing = await failure(download('churn', 1n, 'nope.bin'));
    expect(missing).toMatchObject({ code: status.NOT_FOUND, reason: 'FILE_NOT_FOUND', domain: 'registry.trellis', resource: 'projects/p1/models/churn/versions/1' });
    expect((await failure(download('churn', 1n, '../../other')))?.code).toBe(status.INVALID_ARGUMENT);
  });

  it('copies a single file named by the source, and fails a version whose path has no artifact, saying so', async () => {
    const runId = await newRun();
    await upload(runId, 'out/model.pkl', Buffer.from('pickle'));
    await alice.registry.createModel({ projectId: 'p1', name: 'single' });
    await alice.registry.createVersion({ projectId: 'p1', modelName: 'single', source: `runs:/${runId}/out/model.pkl` });
    expect((await ready('single', 1n)).status).toBe(ModelVersionStatus.READY);
    expect(await paths('single', 1n)).toEqual(['model.pkl 6']);

    await alice.registry.createVersion({ projectId: 'p1', modelName: 'single', source: `runs:/${runId}/nope` });
    // WaitVersion answers a failed copy too, with its reason.
    const failed = await ready('single', 2n);
    expect(failed).toMatchObject({ status: ModelVersionStatus.FAILED, statusMessage: `run ${runId} has no artifact "nope"` });
    const files = await failure(bob.registry.listVersionFiles({ projectId: 'p1', modelName: 'single', version: 2n }));
    expect(files).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'VERSION_FAILED', resource: 'projects/p1/models/single/versions/2' });
    expect(files?.details).toContain('has no artifact "nope"');
    expect(await failure(alice.registry.setAlias({ projectId: 'p1', modelName: 'single', alias: 'prod', version: 2n }))).toMatchObject({
      code: status.FAILED_PRECONDITION,
      reason: 'VERSION_FAILED',
      resource: 'projects/p1/models/single/versions/2',
    });
  });

  it('answers WaitVersion once a copy has ended: READY, or FAILED with its reason', async () => {
    const runId = await newRun();
    await upload(runId, 'w/model.bin', Buffer.from('weights'));
    await alice.registry.createModel({ projectId: 'p1', name: 'waited' });
    const pending = (await alice.registry.createVersion({ projectId: 'p1', modelName: 'waited', source: `runs:/${runId}/w` })).version!;
    expect(pending.status).toBe(ModelVersionStatus.PENDING);
    const copied = (await bob.registry.waitVersion({ projectId: 'p1', modelName: 'waited', version: 1n }, { timeoutMs: 30_000 })).version!;
    expect(copied).toMatchObject({ modelName: 'waited', version: 1n, status: ModelVersionStatus.READY, statusMessage: '' });
    expect(timestampMs(copied.updateTime!)).toBeGreaterThanOrEqual(timestampMs(pending.createTime!));
    expect(await paths('waited', 1n)).toEqual(['model.bin 7']);

    await alice.registry.createVersion({ projectId: 'p1', modelName: 'waited', source: `runs:/${runId}/missing` });
    const failed = (await bob.registry.waitVersion({ projectId: 'p1', modelName: 'waited', version: 2n }, { timeoutMs: 30_000 })).version!;
    expect(failed).toMatchObject({ status: ModelVersionStatus.FAILED, statusMessage: `run ${runId} has no artifact "missing"` });
  });

  it("keeps the run's datasets as lineage, which still answers once the run is deleted", async () => {
    const runId = await newRun();
    await alice.runs.logInputs({
      runId,
      datasets: [
        { dataset: { name: 'churn-train', digest: 'abc123', sourceType: 'delta', source: '{"path":"s3://d/train"}' }, tags: [{ key: 'mlflow.data.context', value: 'training' }] },
        { dataset: { name: 'churn-eval', digest: 'def456', sourceType: 'delta', source: '{"path":"s3://d/eval"}' }, tags: [] },
      ],
    });
    await alice.registry.createModel({ projectId: 'p1', name: 'lineage' });
    // A reference source with a run: the run is its lineage, and nothing is copied.
    const version = (await alice.registry.createVersion({ projectId: 'p1', modelName: 'lineage', source: 's3://bucket/m', runId })).version!;
    expect(version).toMatchObject({ status: ModelVersionStatus.READY, runId });
    await alice.runs.deleteRun({ runId });
    const { lineage } = await bob.registry.getVersionLineage({ projectId: 'p1', modelName: 'lineage', version: 1n });
    expect(lineage).toMatchObject({ runId, experimentId, runName: 'train', version: expect.objectContaining({ version: 1n }) });
    expect(lineage?.datasets).toEqual([
      expect.objectContaining({ name: 'churn-train', digest: 'abc123', sourceType: 'delta', source: '{"path":"s3://d/train"}', context: 'training' }),
      expect.objectContaining({ name: 'churn-eval', digest: 'def456', context: '' }),
    ]);
  });

  it('refuses runs that do not exist, that the caller may not read, or of another project', async () => {
    await alice.registry.createModel({ projectId: 'p1', name: 'runs' });
    const missing = await failure(alice.registry.createVersion({ projectId: 'p1', modelName: 'runs', source: `runs:/${'0'.repeat(32)}/m` }));
    expect(missing?.code).toBe(status.INVALID_ARGUMENT);
    expect(missing?.details).toContain(`run ${'0'.repeat(32)} does not exist`);

    const experiments = await platform.client(ExperimentServiceDesc, tracking.grpcAddress, { sub: 'alice', bindings: [{ project: 'p2', role: 'editor' }] });
    const otherExperiment = (await experiments.createExperiment({ projectId: 'p2', name: 'elsewhere' })).experiment!.id;
    const otherRun = await newRun(alice, otherExperiment);
    const foreign = await failure(alice.registry.createVersion({ projectId: 'p1', modelName: 'runs', source: `runs:/${otherRun}/m` }));
    expect(foreign?.code).toBe(status.INVALID_ARGUMENT);
    expect(foreign?.details).toContain('belongs to project p2');
    // Bob may create versions in p1 but not read runs of p2: tracking's answer reaches him as it is.
    expect((await failure(bob.registry.createVersion({ projectId: 'p1', modelName: 'runs', source: `runs:/${otherRun}/m` })))?.code).toBe(status.PERMISSION_DENIED);
    const mismatch = await failure(alice.registry.createVersion({ projectId: 'p1', modelName: 'runs', source: `runs:/${otherRun}/m`, runId: 'f'.repeat(32) }));
    expect(mismatch?.details).toContain('run_id');
    expect((await bob.registry.getModel({ projectId: 'p1', modelName: 'runs' })).model?.latestVersion).toBe(0n);
  });

  it('copies another version by alias or number, so deleting the source keeps the copy', async () => {
    const runId = await newRun();
    await upload(runId, 'm/weights.bin', Buffer.from('weights-1'));
    await alice.registry.createModel({ projectId: 'p1', name: 'base' });
    await alice.registry.createModel({ projectId: 'p1', name: 'derived' });
    await alice.registry.createVersion({ projectId: 'p1', modelName: 'base', source: `runs:/${runId}/m` });
    await ready('base', 1n);
    await alice.registry.setAlias({ projectId: 'p1', modelName: 'base', alias: 'prod', version: 1n });

    const byAlias = (await alice.registry.createVersion({ projectId: 'p1', modelName: 'derived', source: 'models:/base@prod' })).version!;
    expect(byAlias).toMatchObject({ status: ModelVersionStatus.PENDING, runId });
    expect((await ready('derived', 1n)).status).toBe(ModelVersionStatus.READY);
    await alice.registry.createVersion({ projectId: 'p1', modelName: 'derived', source: 'models:/base/1' });
    expect((await ready('derived', 2n)).status).toBe(ModelVersionStatus.READY);

    await alice.registry.deleteAlias({ projectId: 'p1', modelName: 'base', alias: 'prod' });
    await alice.registry.deleteModel({ projectId: 'p1', modelName: 'base' });
    expect((await download('derived', 1n, 'weights.bin')).toString()).toBe('weights-1');
    expect(await paths('derived', 2n)).toEqual(['weights.bin 9']);
    expect((await bob.registry.getVersionLineage({ projectId: 'p1', modelName: 'derived', version: 2n })).lineage?.runId).toBe(runId);
  });

  describe('protected aliases', () => {
    const request = async (details: Record<string, string>, resource = 'projects/p1/models/prod-model/aliases/champion', action = 'registry.alias.set') =>
      (await alice.approvals.requestApproval({ projectId: 'p1', action, resource, details })).approval!.id;
    const approve = async (approvalId: string) => void (await bob.approvals.approve({ approvalId }));
    const setChampion = (version: bigint, approvalId = '') => alice.registry.setAlias({ projectId: 'p1', modelName: 'prod-model', alias: 'champion', version, approvalId });

    beforeAll(async () => {
      await admin.registry.createModel({ projectId: 'p1', name: 'prod-model', protectedAliases: ['champion'] });
      for (let i = 0; i < 3; i++) await alice.registry.createVersion({ projectId: 'p1', modelName: 'prod-model', source: `s3://b/v${i + 1}` });
    });

    it('needs an approval, approved by someone other than its requester, of exactly that change', async () => {
      const unapproved = await failure(setChampion(3n));
      expect(unapproved?.details).toContain('request an approval of registry.alias.set for projects/p1/models/prod-model/aliases/champion with detail version=3');
      expect(unapproved).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'APPROVAL_REQUIRED', resource: 'projects/p1/models/prod-model/aliases/champion' });

      const pending = await request({ version: '3' });
      const stillPending = await failure(setChampion(3n, pending));
      expect(stillPending).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'APPROVAL_PENDING', resource: 'projects/p1/models/prod-model/aliases/champion' });
      expect(stillPending?.details).toContain('still pending');
      expect((await failure(alice.approvals.approve({ approvalId: pending })))?.code).toBe(status.PERMISSION_DENIED);

      const rejected = await request({ version: '3' });
      await bob.approvals.reject({ approvalId: rejected });
      const refused = await failure(setChampion(3n, rejected));
      expect(refused?.details).toContain('was rejected');
      expect(refused).toMatchObject({ code: status.PERMISSION_DENIED, reason: 'APPROVAL_REJECTED' });

      const otherVersion = await request({ version: '2' });
      await approve(otherVersion);
      const wrongVersion = await failure(setChampion(3n, otherVersion));
      expect(wrongVersion).toMatchObject({ code: status.PERMISSION_DENIED, reason: 'APPROVAL_MISMATCH', resource: 'projects/p1/models/prod-model/aliases/champion' });
      expect(wrongVersion?.details).toContain('approves version 2; this sets champion to version 3');

      const otherAlias = await request({ version: '3' }, 'projects/p1/models/prod-model/aliases/canary');
      await approve(otherAlias);
      const elsewhere = await failure(setChampion(3n, otherAlias));
      expect(elsewhere?.details).toContain('needs one for projects/p1/models/prod-model/aliases/champion');
      expect(elsewhere).toMatchObject({ code: status.PERMISSION_DENIED, reason: 'APPROVAL_MISMATCH' });
      const unknown = await failure(setChampion(3n, '5d2c4c1e-0000-4000-8000-000000000000'));
      expect(unknown?.details).toContain('does not exist');
      expect(unknown).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'APPROVAL_NOT_FOUND' });

      await approve(pending);
      const change = (await setChampion(3n, pending)).change!;
      expect(change).toMatchObject({ alias: 'champion', fromVersion: 0n, toVersion: 3n, approvalId: pending, actorId: 'alice' });
      expect((await bob.registry.listAliasHistory({ projectId: 'p1', modelName: 'prod-model', alias: 'champion' })).changes[0].approvalId).toBe(pending);

      const reused = await failure(setChampion(3n, pending));
      expect(reused).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'APPROVAL_USED', resource: 'projects/p1/models/prod-model/aliases/champion' });
      expect(reused?.details).toContain('already used');
      expect((await bob.registry.getVersionByAlias({ projectId: 'p1', modelName: 'prod-model', alias: 'champion' })).version?.version).toBe(3n);
    });

    it('needs an approval of registry.alias.delete to delete it', async () => {
      const forSet = await request({ version: '3' });
      await approve(forSet);
      const wrongAction = await failure(alice.registry.deleteAlias({ projectId: 'p1', modelName: 'prod-model', alias: 'champion', approvalId: forSet }));
      expect(wrongAction?.details).toContain('this change needs registry.alias.delete');
      const forDelete = await request({}, 'projects/p1/models/prod-model/aliases/champion', 'registry.alias.delete');
      await approve(forDelete);
      expect((await alice.registry.deleteAlias({ projectId: 'p1', modelName: 'prod-model', alias: 'champion', approvalId: forDelete })).change).toMatchObject({
        fromVersion: 3n,
        toVersion: 0n,
        approvalId: forDelete,
      });
    });
  });
});

import { createHash, randomBytes } from 'node:crypto';
import { fromBinary } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { status, type ServiceError } from '@grpc/grpc-js';
import { callEveryMethodWithoutToken, type EventSubscription, type GrpcClient, type RunningService } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import storageFs from '@trellis/plugin-storage-fs';
import {
  ArtifactServiceDesc,
  AuditEventSchema,
  type AuditEvent,
  ExperimentServiceDesc,
  LifecycleStage,
  MetricServiceDesc,
  RunCreatedEventSchema,
  RunFinishedEventSchema,
  RunServiceDesc,
  RunStatus,
  ViewType,
} from '@trellis/proto';
import { eventually } from '@trellis/testing';
import { trackingService } from '@trellis/tracking';

type Clients = {
  experiments: GrpcClient<(typeof ExperimentServiceDesc)['method']>;
  runs: GrpcClient<(typeof RunServiceDesc)['method']>;
  metrics: GrpcClient<(typeof MetricServiceDesc)['method']>;
  artifacts: GrpcClient<(typeof ArtifactServiceDesc)['method']>;
};
type Role = 'viewer' | 'editor' | 'admin' | 'owner';

const failure = async (call: Promise<unknown>) => (await call.then(() => undefined, (error: unknown) => error)) as ServiceError | undefined;
const point = (key: string, value: number, step: number, timestampMs = 1_700_000_000_000 + step) => ({ key, value, step: BigInt(step), timestampMs: BigInt(timestampMs) });

describe('tracking through gRPC (SQLite, standalone kit)', () => {
  let platform: TestPlatform;
  let service: RunningService;
  let editor: Clients;
  let viewer: Clients;
  let outsider: Clients;
  let subscription: EventSubscription;
  const events: Array<{ subject: string; payload: Uint8Array }> = [];

  const clientsFor = async (sub: string, role: Role, project = 'p1'): Promise<Clients> => {
    const claims = { sub, bindings: [{ project, role }] };
    return {
      experiments: await platform.client(ExperimentServiceDesc, service.grpcAddress, claims),
      runs: await platform.client(RunServiceDesc, service.grpcAddress, claims),
      metrics: await platform.client(MetricServiceDesc, service.grpcAddress, claims),
      artifacts: await platform.client(ArtifactServiceDesc, service.grpcAddress, claims),
    };
  };

  beforeAll(async () => {
    platform = await TestPlatform.start({}, { plugins: [storageFs] });
    subscription = await platform.runtime.bus.subscribe({
      durable: 'tracking-spec',
      subject: 'trellis.tracking.v1.run.>',
      handler: async (envelope) => void events.push({ subject: envelope.subject, payload: envelope.payload }),
    });
    service = await platform.startService(trackingService);
    editor = await clientsFor('erin', 'editor');
    viewer = await clientsFor('vic', 'viewer');
    outsider = await clientsFor('oscar', 'owner', 'p2');
  });

  afterAll(async () => {
    await subscription?.stop();
    await platform?.stop();
  });

  const newExperiment = async (name: string) => (await editor.experiments.createExperiment({ projectId: 'p1', name })).experiment!;
  const newRun = async (experimentId: string, runName = '') => (await editor.runs.createRun({ experimentId, runName })).run!;

  it('answers UNAUTHENTICATED on every method without a token', async () => {
    const results = await callEveryMethodWithoutToken(trackingService.grpcServices, service.grpcAddress);
    expect(results.filter((result) => result.code !== status.UNAUTHENTICATED)).toEqual([]);
  });

  it('creates experiments with unique names per project, and finds them by name', async () => {
    const experiment = await newExperiment('churn');
    expect(experiment).toMatchObject({ projectId: 'p1', name: 'churn', lifecycleStage: LifecycleStage.ACTIVE });
    expect(experiment.artifactLocation).toBe(`mlflow-artifacts:/${experiment.id}`);
    expect((await failure(editor.experiments.createExperiment({ projectId: 'p1', name: 'churn' })))?.code).toBe(status.ALREADY_EXISTS);
    const found = await viewer.experiments.getExperimentByName({ projectId: 'p1', name: 'churn' });
    expect(found.experiment?.id).toBe(experiment.id);
    expect((await failure(viewer.experiments.createExperiment({ projectId: 'p1', name: 'x' })))?.code).toBe(status.PERMISSION_DENIED);
    // Experiment ids are sequential: another project's look missing rather than forbidden.
    expect((await failure(outsider.experiments.getExperiment({ experimentId: experiment.id })))?.code).toBe(status.NOT_FOUND);
  });

  it("creates a project's Default experiment on first use, once, and audits its creation", async () => {
    const audits: AuditEvent[] = [];
    const audited = await platform.runtime.bus.subscribe({
      durable: 'tracking-default-audit-spec',
      subject: 'trellis.tracking.v1.audit.recorded',
      handler: async (envelope) => void audits.push(fromBinary(AuditEventSchema, envelope.payload)),
    });
    const [a, b] = await Promise.all([
      editor.experiments.getExperimentByName({ projectId: 'p1', name: 'Default' }),
      editor.experiments.getExperimentByName({ projectId: 'p1', name: 'Default' }),
    ]);
    expect(a.experiment?.id).toBe(b.experiment?.id);
    await eventually(() =>
      expect(audits.filter((event) => event.resource === `projects/p1/experiments/${a.experiment?.id}`)).toEqual([
        expect.objectContaining({ action: 'create', actor: 'erin', projectId: 'p1' }),
      ]),
    );
    await audited.stop();
    expect((await failure(viewer.experiments.getExperimentByName({ projectId: 'p1', name: 'nope' })))?.code).toBe(status.NOT_FOUND);
  });

  it('creates a run, publishes run.created, and returns what it logged with the latest value per metric', async () => {
    const experiment = await newExperiment('logging');
    const run = await newRun(experiment.id, 'first');
    expect(run.info).toMatchObject({ runName: 'first', status: RunStatus.RUNNING, userId: 'erin', experimentId: experiment.id });
    expect(run.info?.id).toMatch(/^[0-9a-f]{32}$/);
    expect(run.info?.artifactUri).toBe(`mlflow-artifacts:/${experiment.id}/${run.info?.id}/artifacts`);
    const runId = run.info!.id;

    await editor.runs.logBatch({
      runId,
      metrics: [point('loss', 0.9, 0), point('loss', 0.5, 2), point('loss', 0.7, 1, 1_800_000_000_000), point('acc', Number.NaN, 0)],
      params: [{ key: 'lr', value: '0.01' }],
      tags: [{ key: 'team', value: 'a' }, { key: 'team', value: 'b' }],
    });
    await editor.runs.logParam({ runId, param: { key: 'lr', value: '0.01' } });
    const got = (await viewer.runs.getRun({ runId })).run!;
    expect(got.data?.params).toEqual([expect.objectContaining({ key: 'lr', value: '0.01' })]);
    expect(got.data?.tags).toEqual(expect.arrayContaining([expect.objectContaining({ key: 'team', value: 'b' })]));
    const latest = Object.fromEntries((got.data?.metrics ?? []).map((metric) => [metric.key, metric]));
    // The highest step wins over a later timestamp, as on MLflow's server.
    expect(latest.loss).toMatchObject({ value: 0.5, step: 2n });
    expect(latest.acc.value).toBeNaN();

    await eventually(() => expect(events.some((event) => event.subject === 'trellis.tracking.v1.run.created' && fromBinary(RunCreatedEventSchema, event.payload).runInfo?.id === runId)).toBe(true));
  });

  it('keeps params immutable and stores nothing of a rejected batch', async () => {
    const { id: runId } = (await newRun((await newExperiment('immutable')).id)).info!;
    await editor.runs.logParam({ runId, param: { key: 'depth', value: '3' } });
    const changed = await failure(editor.runs.logBatch({ runId, params: [{ key: 'depth', value: '4' }], metrics: [point('m', 1, 0)], tags: [{ key: 't', value: 'v' }] }));
    expect(changed?.code).toBe(status.INVALID_ARGUMENT);
    expect(changed?.details).toContain('depth');
    const overLimit = await failure(editor.runs.logBatch({ runId, metrics: Array.from({ length: 1001 }, (_, i) => point('m', i, i)) }));
    expect(overLimit?.code).toBe(status.INVALID_ARGUMENT);
    expect(overLimit?.details).toContain('1000');
    const badKey = await failure(editor.runs.logMetric({ runId, metric: point('../escape', 1, 0) }));
    expect(badKey?.code).toBe(status.INVALID_ARGUMENT);
    const run = (await editor.runs.getRun({ runId })).run!;
    expect(run.data?.metrics).toEqual([]);
    expect(run.data?.tags.map((tag) => tag.key)).not.toContain('t');
    expect(run.data?.params.map((param) => `${param.key}=${param.value}`)).toEqual(['depth=3']);
  });

  it('lets a viewer read but not log, and an outsider neither', async () => {
    const { id: runId } = (await newRun((await newExperiment('rbac')).id)).info!;
    expect((await failure(viewer.runs.logMetric({ runId, metric: point('m', 1, 0) })))?.code).toBe(status.PERMISSION_DENIED);
    expect((await failure(outsider.runs.getRun({ runId })))?.code).toBe(status.PERMISSION_DENIED);
    expect((await failure(viewer.runs.getRun({ runId: '0'.repeat(32) })))?.code).toBe(status.NOT_FOUND);
    expect((await failure(viewer.runs.getRun({ runId: "x' or 1=1" })))?.code).toBe(status.INVALID_ARGUMENT);
  });

  it('finishes a run once: run.finished is published for the first terminal status only', async () => {
    const { id: runId } = (await newRun((await newExperiment('finishing')).id, 'kept name')).info!;
    const finished = await editor.runs.updateRun({ runId, status: RunStatus.FINISHED, runName: 'not named in the mask', updateMask: { paths: ['status'] } });
    expect(finished.runInfo).toMatchObject({ status: RunStatus.FINISHED, runName: 'kept name' });
    expect(Number(finished.runInfo?.endTime?.seconds)).toBeGreaterThan(0);
    await editor.runs.updateRun({ runId, status: RunStatus.FAILED, updateMask: { paths: ['status'] } });
    const finishedEvents = () => events.filter((event) => event.subject === 'trellis.tracking.v1.run.finished' && fromBinary(RunFinishedEventSchema, event.payload).runInfo?.id === runId);
    await eventually(() => expect(finishedEvents()).toHaveLength(1));
    expect(fromBinary(RunFinishedEventSchema, finishedEvents()[0].payload).runInfo?.status).toBe(RunStatus.FINISHED);
  });

  it('changes exactly the fields an update_mask names, and refuses a mask that names none or another field', async () => {
    const experiment = await newExperiment('masked');
    const { id: runId, startTime } = (await newRun(experiment.id, 'before')).info!;
    const endTime = timestampFromMs(1_700_000_000_123);
    const renamed = await editor.runs.updateRun({ runId, runName: 'after', endTime, status: RunStatus.KILLED, updateMask: { paths: ['run_name', 'end_time'] } });
    expect(renamed.runInfo).toMatchObject({ runName: 'after', status: RunStatus.RUNNING, endTime: { seconds: 1_700_000_000n, nanos: 123_000_000 }, startTime });
    const tags = (await viewer.runs.getRun({ runId })).run?.data?.tags ?? [];
    expect(tags).toContainEqual(expect.objectContaining({ key: 'mlflow.runName', value: 'after' }));
    const refusals = await Promise.all([
      failure(editor.runs.updateRun({ runId, runName: 'x' })),
      failure(editor.runs.updateRun({ runId, runName: 'x', updateMask: { paths: ['run_name', 'start_time'] } })),
      failure(editor.runs.updateRun({ runId, updateMask: { paths: ['status'] } })),
      failure(editor.runs.updateRun({ runId, updateMask: { paths: ['end_time'] } })),
      failure(editor.runs.updateRun({ runId, updateMask: { paths: ['run_name'] } })),
      failure(editor.experiments.updateExperiment({ experimentId: experiment.id, name: 'renamed' })),
    ]);
    expect(refusals.map((error) => [error?.code, error?.details.split(':')[0]])).toEqual([
      [status.INVALID_ARGUMENT, 'update_mask'],
      [status.INVALID_ARGUMENT, 'update_mask'],
      [status.INVALID_ARGUMENT, 'status'],
      [status.INVALID_ARGUMENT, 'end_time'],
      [status.INVALID_ARGUMENT, 'run_name'],
      [status.INVALID_ARGUMENT, 'update_mask'],
    ]);
    const { experiment: updated } = await editor.experiments.updateExperiment({ experimentId: experiment.id, name: 'masked, renamed', updateMask: { paths: ['*'] } });
    expect(updated).toMatchObject({ id: experiment.id, name: 'masked, renamed', createTime: experiment.createTime });
    await newExperiment('masked, taken');
    const taken = await failure(editor.experiments.updateExperiment({ experimentId: experiment.id, name: 'masked, taken', updateMask: { paths: ['name'] } }));
    expect([taken?.code, taken?.details]).toEqual([status.ALREADY_EXISTS, 'Experiment(name=masked, taken) already exists.']);
  });

  it('searches runs with a filter and an order, and names the position of a bad filter', async () => {
    const experiment = await newExperiment('search');
    for (const [name, rmse, model] of [['a', 0.3, 'tree'], ['b', 0.1, 'tree'], ['c', 0.2, 'linear']] as const) {
      const { id: runId } = (await newRun(experiment.id, name)).info!;
      await editor.runs.logBatch({ runId, metrics: [point('rmse', rmse, 0)], params: [{ key: 'model', value: model }] });
    }
    const page = await viewer.runs.searchRuns({ experimentIds: [experiment.id], filter: "params.model = 'tree'", orderBy: ['metrics.rmse ASC'] });
    expect(page.runs.map((run) => run.info?.runName)).toEqual(['b', 'a']);
    expect(page.runs[0].data?.params).toEqual([expect.objectContaining({ key: 'model', value: 'tree' })]);
    const bad = await failure(viewer.runs.searchRuns({ experimentIds: [experiment.id], filter: 'metrics.rmse < 1 or params.x = 1' }));
    expect(bad?.code).toBe(status.INVALID_ARGUMENT);
    expect(bad?.details).toMatch(/position/);
    expect((await failure(outsider.runs.searchRuns({ experimentIds: [experiment.id] })))?.code).toBe(status.NOT_FOUND);
  });

  it('deletes and restores runs and experiments; deleted ones leave default searches', async () => {
    const experiment = await newExperiment('lifecycle');
    const kept = (await newRun(experiment.id, 'kept')).info!.id;
    const removed = (await newRun(experiment.id, 'removed')).info!.id;
    await editor.runs.deleteRun({ runId: removed });
    const names = async (viewType = ViewType.ACTIVE_ONLY) =>
      (await viewer.runs.searchRuns({ experimentIds: [experiment.id], viewType })).runs.map((run) => run.info?.runName).sort();
    expect(await names()).toEqual(['kept']);
    expect(await names(ViewType.DELETED_ONLY)).toEqual(['removed']);
    expect((await failure(editor.runs.logMetric({ runId: removed, metric: point('m', 1, 0) })))?.code).toBe(status.FAILED_PRECONDITION);
    const upload = editor.artifacts.uploadArtifact([{ part: { case: 'header', value: { runId: removed, path: 'late.txt' } } }, { part: { case: 'chunk', value: Buffer.from('x') } }]);
    expect((await failure(upload))?.code).toBe(status.FAILED_PRECONDITION);

    await editor.experiments.deleteExperiment({ experimentId: experiment.id });
    expect(await names()).toEqual([]);
    await editor.experiments.restoreExperiment({ experimentId: experiment.id });
    expect(await names()).toEqual(['kept']);
    await editor.runs.restoreRun({ runId: removed });
    expect(await names()).toEqual(['kept', 'removed']);
    expect(kept).not.toBe(removed);
  });

  it('answers each refusal with the reason its RPC comment names, and the resource it concerns', async () => {
    const experiment = await newExperiment('reasons');
    const { id: runId } = (await newRun(experiment.id)).info!;
    const missingRun = '0'.repeat(32);
    const notFound = { code: status.NOT_FOUND, domain: 'tracking.trellis' };
    await expect(viewer.runs.getRun({ runId: missingRun })).rejects.toMatchObject({ ...notFound, details: `Run with id=${missingRun} not found`, reason: 'RUN_NOT_FOUND', resource: `runs/${missingRun}` });
    await expect(editor.runs.createRun({ experimentId: experiment.id, parentRunId: missingRun })).rejects.toMatchObject({ ...notFound, reason: 'RUN_NOT_FOUND' });
    // Experiment ids are sequential: a refusal names no project, for one that exists elsewhere as for none.
    await expect(outsider.experiments.getExperiment({ experimentId: experiment.id })).rejects.toMatchObject({ ...notFound, reason: 'EXPERIMENT_NOT_FOUND', resource: undefined });
    await expect(viewer.experiments.getExperimentByName({ projectId: 'p1', name: 'nope' })).rejects.toMatchObject({ ...notFound, reason: 'EXPERIMENT_NOT_FOUND' });
    await expect(editor.runs.deleteTag({ runId, key: 'absent' })).rejects.toMatchObject({ ...notFound, reason: 'TAG_NOT_FOUND', resource: `runs/${runId}` });
    await expect(editor.experiments.deleteExperimentTag({ experimentId: experiment.id, key: 'absent' })).rejects.toMatchObject({
      ...notFound,
      reason: 'TAG_NOT_FOUND',
      resource: `projects/p1/experiments/${experiment.id}`,
    });
    const download = viewer.artifacts.downloadArtifact({ runId, path: 'absent.bin' });
    await expect((async () => { for await (const _ of download) void _; })()).rejects.toMatchObject({ ...notFound, reason: 'ARTIFACT_NOT_FOUND', resource: `runs/${runId}/artifacts/absent.bin` });

    await expect(editor.experiments.createExperiment({ projectId: 'p1', name: 'reasons' })).rejects.toMatchObject({ code: status.ALREADY_EXISTS, reason: 'EXPERIMENT_NAME_TAKEN' });
    await editor.runs.logParam({ runId, param: { key: 'lr', value: '0.1' } });
    await expect(editor.runs.logParam({ runId, param: { key: 'lr', value: '0.2' } })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'PARAM_VALUE_CHANGED', resource: `runs/${runId}` });
    const defaultExperiment = (await editor.experiments.getExperimentByName({ projectId: 'p1', name: 'Default' })).experiment!;
    await expect(editor.experiments.updateExperiment({ experimentId: defaultExperiment.id, name: 'Renamed', updateMask: { paths: ['name'] } })).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
      reason: 'DEFAULT_EXPERIMENT_NAME_FIXED',
      resource: `projects/p1/experiments/${defaultExperiment.id}`,
    });

    await editor.runs.deleteRun({ runId });
    const notActive = { code: status.FAILED_PRECONDITION, reason: 'RUN_NOT_ACTIVE', resource: `runs/${runId}` };
    await expect(editor.runs.setTag({ runId, tag: { key: 'k', value: 'v' } })).rejects.toMatchObject(notActive);
    await expect(editor.runs.logMetric({ runId, metric: point('m', 1, 0) })).rejects.toMatchObject(notActive);
    await expect(editor.artifacts.uploadArtifact([{ part: { case: 'header', value: { runId, path: 'late.txt' } } }])).rejects.toMatchObject(notActive);
    await editor.experiments.deleteExperiment({ experimentId: experiment.id });
    await expect(editor.experiments.setExperimentTag({ experimentId: experiment.id, tag: { key: 'k', value: 'v' } })).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
      reason: 'EXPERIMENT_NOT_ACTIVE',
      resource: `projects/p1/experiments/${experiment.id}`,
    });
    await expect(editor.runs.createRun({ experimentId: experiment.id })).rejects.toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'EXPERIMENT_NOT_ACTIVE' });
  });

  it('stores artifacts under the run, lists them by directory, and refuses paths that escape', async () => {
    const { id: runId } = (await newRun((await newExperiment('artifacts')).id)).info!;
    const upload = (path: string, ...chunks: string[]) =>
      editor.artifacts.uploadArtifact([{ part: { case: 'header', value: { runId, path } } }, ...chunks.map((chunk) => ({ part: { case: 'chunk' as const, value: Buffer.from(chunk) } }))]);
    expect((await upload('model/model.onnx', 'hello ', 'world')).file).toMatchObject({ path: 'model/model.onnx', sizeBytes: 11n });
    await upload('metrics.json', '{}');
    const listing = await viewer.artifacts.listArtifacts({ runId, path: '' });
    expect(listing.files.map((file) => [file.path, file.isDir])).toEqual([['metrics.json', false], ['model', true]]);
    expect((await viewer.artifacts.listArtifacts({ runId, path: 'model' })).files.map((file) => file.path)).toEqual(['model/model.onnx']);
    const chunks: Buffer[] = [];
    for await (const piece of viewer.artifacts.downloadArtifact({ runId, path: 'model/model.onnx' })) chunks.push(Buffer.from(piece.chunk));
    expect(Buffer.concat(chunks).toString()).toBe('hello world');
    for (const path of ['../other/x', '/etc/passwd', 'a/../../b', 'a\\b']) {
      expect((await failure(upload(path, 'x')))?.code).toBe(status.INVALID_ARGUMENT);
    }
    expect((await failure(viewer.artifacts.uploadArtifact([{ part: { case: 'header', value: { runId, path: 'v.txt' } } }])))?.code).toBe(status.PERMISSION_DENIED);
    const missing = viewer.artifacts.downloadArtifact({ runId, path: 'nope.bin' });
    expect((await failure((async () => { for await (const _ of missing) void _; })()))?.code).toBe(status.NOT_FOUND);
  });

  it('lets a project admin choose among configured storage instances, and nobody else', async () => {
    const admin = await clientsFor('ada', 'admin');
    expect((await admin.artifacts.getArtifactStore({ projectId: 'p1' })).store).toBe('default');
    const unknown = await failure(admin.artifacts.setArtifactStore({ projectId: 'p1', store: 'nowhere' }));
    expect(unknown?.code).toBe(status.INVALID_ARGUMENT);
    expect(unknown?.details).toContain('instances: default');
    expect((await failure(editor.artifacts.setArtifactStore({ projectId: 'p1', store: 'default' })))?.code).toBe(status.PERMISSION_DENIED);
    expect((await admin.artifacts.setArtifactStore({ projectId: 'p1', store: 'default' })).store).toBe('default');
  });

  it("never lists experiments of projects an org admin's token does not name", async () => {
    await newExperiment('org-scoped');
    const otherOrgAdmin = await platform.client(ExperimentServiceDesc, service.grpcAddress, { sub: 'root', org: 'another-org', orgAdmin: true, bindings: [] });
    expect((await otherOrgAdmin.searchExperiments({})).experiments).toEqual([]);
    expect((await editor.experiments.searchExperiments({})).experiments.map((experiment) => experiment.name)).toContain('org-scoped');
  });

  it('streams a large artifact up and down intact, the upload paced by the store', async () => {
    const { id: runId } = (await newRun((await newExperiment('large-artifact')).id)).info!;
    const content = randomBytes(8 * 1024 * 1024);
    const chunks = Array.from({ length: content.length / 65_536 }, (_, i) => ({ part: { case: 'chunk' as const, value: content.subarray(i * 65_536, (i + 1) * 65_536) } }));
    const stored = await editor.artifacts.uploadArtifact([{ part: { case: 'header', value: { runId, path: 'data/big.bin' } } }, ...chunks]);
    expect(stored.file?.sizeBytes).toBe(BigInt(content.length));
    const hash = createHash('sha256');
    for await (const piece of viewer.artifacts.downloadArtifact({ runId, path: 'data/big.bin' })) hash.update(piece.chunk);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(content).digest('hex'));
  });
});

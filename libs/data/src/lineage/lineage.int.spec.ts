import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { callEveryMethodWithoutToken, type EventSubscription, type GrpcCallError, type GrpcClient, type RunningService } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import { definePlugin } from '@trellis/plugin-sdk';
import { MemoryObjectStore } from '@trellis/plugin-sdk/testing';
import { AuditEventSchema, DataServiceDesc, Outcome, EventEnvelopeSchema, JobEventSchema, JobState, LineageServiceDesc, RunInputsLoggedEventSchema, VersionCreatedEventSchema, type EventEnvelope } from '@trellis/proto';
import { LineageDirection, LineageNodeKind, type GetLineageResponse } from '@trellis/proto/trellis/data/v1/lineage_service_pb';
import { eventually, serviceDatabases, type ServiceDatabase } from '@trellis/testing';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { dataService } from '../data.definition';

type Lineage = GrpcClient<(typeof LineageServiceDesc)['method']>;
type Role = 'viewer' | 'editor' | 'admin' | 'owner';

const failure = async (call: Promise<unknown>) => (await call.then(() => undefined, (error: unknown) => error)) as GrpcCallError | undefined;

/** An envelope as tracking's or the registry's outbox relay would put it on the bus. */
function envelope<Desc extends DescMessage>(subject: string, schema: Desc, message: MessageInitShape<Desc>, projectId: string, id = randomUUID()): EventEnvelope {
  return create(EventEnvelopeSchema, { id, subject, projectId, actor: 'trainer', payloadType: schema.typeName, payload: toBinary(schema, create(schema, message)) });
}

const inputsLogged = (runId: string, projectId: string, sources: string[]) =>
  envelope(
    'trellis.tracking.v1.run.inputs_logged',
    RunInputsLoggedEventSchema,
    { runInfo: { id: runId, projectId }, datasetInputs: sources.map((source, index) => ({ dataset: { name: `d${index}`, digest: 'abc', sourceType: 'trellis', source } })) },
    projectId,
  );

const versionCreated = (projectId: string, modelName: string, version: number, runId: string) =>
  envelope('trellis.registry.v1.version.created', VersionCreatedEventSchema, { version: { projectId, modelName, version: BigInt(version), runId, source: `runs:/${runId}/model` } }, projectId);

const jobEvent = (state: 'queued' | 'running', jobId: string, projectId: string, fields: { datasetInputs?: string[]; runId?: string }) =>
  envelope(`trellis.compute.v1.job.${state}`, JobEventSchema, { jobId, projectId, queue: 'gpu', state: state === 'queued' ? JobState.QUEUED : JobState.RUNNING, ...fields }, projectId);

const names = (graph: GetLineageResponse) => graph.nodes.map((node) => node.name);
const pairs = (graph: GetLineageResponse) => graph.edges.map((edge) => `${edge.source} -> ${edge.target}`);

describe.each(serviceDatabases('data'))('lineage (%s)', (_database, databaseFor) => {
  let database: ServiceDatabase;
  let platform: TestPlatform;
  let service: RunningService;
  let audits: EventSubscription;
  let editor: Lineage;
  let viewer: Lineage;
  let outsider: Lineage;
  let datasetId: string;
  let configDir: string;
  const audited: Array<{ method: string; project: string; actor: string; outcome: string }> = [];

  const lineageFor = (sub: string, bindings: Array<{ project: string; role: Role }>) => platform.client(LineageServiceDesc, service.grpcAddress, { sub, bindings });
  const publish = (event: EventEnvelope) => platform.runtime.bus.publish(event);

  beforeAll(async () => {
    database = await databaseFor();
    // The data service needs a storage instance; the SDK's in-memory one (a service lib builds in no real plugin).
    const memoryStorage = definePlugin({ manifest: { kind: 'storage', id: 'storage-memory', apiVersion: 'v1' }, configSchema: z.object({}), create: () => new MemoryObjectStore() });
    configDir = mkdtempSync(join(tmpdir(), 'trellis-lineage-spec-'));
    writeFileSync(join(configDir, 'trellis.yaml'), 'storage:\n  default:\n    plugin: storage-memory\n');
    platform = await TestPlatform.start({ ...database.env, TRELLIS_CONFIG: join(configDir, 'trellis.yaml') }, { plugins: [memoryStorage] });
    audits = await platform.runtime.bus.subscribe({
      durable: 'lineage-spec-audit',
      subject: 'trellis.data.v1.audit.recorded',
      handler: async (event) => {
        const record = fromBinary(AuditEventSchema, event.payload);
        audited.push({ method: record.method, project: record.projectId, actor: record.actor, outcome: Outcome[record.outcome] });
      },
    });
    service = await platform.startService(dataService);
    editor = await lineageFor('erin', [{ project: 'p1', role: 'editor' }]);
    viewer = await lineageFor('vic', [{ project: 'p1', role: 'viewer' }]);
    outsider = await lineageFor('oscar', [{ project: 'p2', role: 'owner' }]);
    const datasets = await platform.client(DataServiceDesc, service.grpcAddress, { sub: 'erin', bindings: [{ project: 'p1', role: 'editor' }] });
    datasetId = (await datasets.createDataset({ projectId: 'p1', name: 'mnist', description: '' })).dataset!.id;
    // Version 1, tagged golden: a run's datasets:/mnist@golden input resolves to it.
    async function* header() {
      yield { part: { case: 'header' as const, value: { datasetId, message: 'first', tags: ['golden'] } } };
    }
    expect((await datasets.commitDatasetVersion(header())).version?.version).toBe(1n);
  });

  afterAll(async () => {
    await audits?.stop();
    await platform?.stop();
    await database?.cleanup();
    rmSync(configDir, { recursive: true, force: true });
  });

  it('answers UNAUTHENTICATED on every lineage method without a token', async () => {
    const results = await callEveryMethodWithoutToken([LineageServiceDesc], service.grpcAddress);
    expect(results.filter((result) => result.code !== status.UNAUTHENTICATED)).toEqual([]);
  });

  it('links the dataset versions a run logs (by number or tag) and the model versions made from it, from tracking and registry events, once however often they come', async () => {
    const logged = inputsLogged('r1', 'p1', ['{"uri": "datasets:/mnist/2"}', 'datasets:/mnist@golden', 's3://bucket/raw.csv', 'datasets:/absent/1']);
    const registered = versionCreated('p1', 'clf', 1, 'r1');
    for (const event of [logged, registered, logged, registered]) await publish(event);
    await publish({ ...registered, id: randomUUID() });
    await publish({ ...logged, id: randomUUID() });

    const model = 'projects/p1/models/clf/versions/1';
    const graph = await eventually(async () => {
      const answer = await viewer.getLineage({ node: model, direction: LineageDirection.UPSTREAM, depth: 2 });
      expect(answer.nodes).toHaveLength(5);
      return answer;
    });
    expect(names(graph)).toEqual([model, 'runs/r1', `datasets/${datasetId}/versions/1`, `datasets/${datasetId}/versions/2`, 'projects/p1/datasetReferences/absent%2F1']);
    expect(graph.nodes.map((node) => [node.kind, node.depth, node.projectId, node.hidden])).toEqual([
      [LineageNodeKind.MODEL_VERSION, 0, 'p1', false],
      [LineageNodeKind.RUN, 1, 'p1', false],
      [LineageNodeKind.DATASET_VERSION, 2, 'p1', false],
      [LineageNodeKind.DATASET_VERSION, 2, 'p1', false],
      [LineageNodeKind.DATASET_VERSION, 2, 'p1', false],
    ]);
    expect(graph.edges).toHaveLength(4);
    expect(graph.edges.find((edge) => edge.target === model)).toMatchObject({ source: 'runs/r1', origin: 'trellis.registry.v1.version.created' });

    const down = await viewer.getLineage({ node: `datasets/${datasetId}/versions/2`, direction: LineageDirection.DOWNSTREAM });
    expect(names(down)).toEqual([`datasets/${datasetId}/versions/2`, 'runs/r1', model]);
    const golden = await viewer.getLineage({ node: `datasets/${datasetId}/versions/1`, direction: LineageDirection.DOWNSTREAM, depth: 1 });
    expect(names(golden)).toEqual([`datasets/${datasetId}/versions/1`, 'runs/r1']);
  });

  it("links a compute job to the dataset versions it reads when it is queued and to its run when it runs, so a model's lineage reaches the data through the job", async () => {
    await publish(jobEvent('queued', 'job-7', 'p1', { datasetInputs: ['datasets:/mnist@golden', 'datasets:/absent/3'] }));
    await publish(jobEvent('running', 'job-7', 'p1', { runId: 'r-j1', datasetInputs: ['datasets:/mnist@golden', 'datasets:/absent/3'] }));
    await publish(versionCreated('p1', 'from-job', 1, 'r-j1'));

    const model = 'projects/p1/models/from-job/versions/1';
    const graph = await eventually(async () => {
      const answer = await viewer.getLineage({ node: model, direction: LineageDirection.UPSTREAM, depth: 3 });
      expect(answer.nodes).toHaveLength(5);
      return answer;
    });
    expect(names(graph)).toEqual([model, 'runs/r-j1', 'jobs/job-7', `datasets/${datasetId}/versions/1`, 'projects/p1/datasetReferences/absent%2F3']);
    expect(graph.nodes.find((node) => node.name === 'jobs/job-7')).toMatchObject({ kind: LineageNodeKind.JOB, projectId: 'p1', depth: 2 });
    expect(pairs(graph).sort()).toEqual(
      [`datasets/${datasetId}/versions/1 -> jobs/job-7`, 'jobs/job-7 -> runs/r-j1', 'projects/p1/datasetReferences/absent%2F3 -> jobs/job-7', `runs/r-j1 -> ${model}`].sort(),
    );
    expect(graph.edges.find((edge) => edge.target === 'runs/r-j1')).toMatchObject({ origin: 'trellis.compute.v1.job.running' });
  });

  it('records explicit edges for jobs with editor rights, audited, and walks them both ways', async () => {
    const dataset = `datasets/${datasetId}/versions/3`;
    const edges = [
      { source: dataset, target: 'jobs/j1' },
      { source: 'jobs/j1', target: 'runs/r2' },
      { source: 'runs/r2', target: 'projects/p1/models/clf/versions/2' },
    ];
    expect((await editor.recordLineage({ projectId: 'p1', edges })).recorded).toBe(3);
    expect((await editor.recordLineage({ projectId: 'p1', edges })).recorded).toBe(0);
    expect((await failure(viewer.recordLineage({ projectId: 'p1', edges })))?.code).toBe(status.PERMISSION_DENIED);
    expect((await failure(outsider.recordLineage({ projectId: 'p1', edges })))?.code).toBe(status.PERMISSION_DENIED);

    const down = await viewer.getLineage({ node: dataset, direction: LineageDirection.DOWNSTREAM, depth: 3 });
    expect(names(down)).toEqual([dataset, 'jobs/j1', 'runs/r2', 'projects/p1/models/clf/versions/2']);
    expect(down.edges.every((edge) => edge.origin === 'RecordLineage')).toBe(true);
    const one = await viewer.getLineage({ node: 'runs/r2', direction: LineageDirection.BOTH, depth: 1 });
    expect(names(one)).toEqual(['runs/r2', 'jobs/j1', 'projects/p1/models/clf/versions/2']);
    const records = () => audited.filter((record) => record.method.endsWith('RecordLineage') && record.project === 'p1');
    await eventually(() => expect(records().map(({ actor, outcome }) => `${actor} ${outcome}`).sort()).toEqual(['erin SUCCEEDED', 'erin SUCCEEDED', 'oscar DENIED']));
  });

  it('walks a cycle without looping', async () => {
    const edges = [
      { source: 'runs/c1', target: 'runs/c2' },
      { source: 'runs/c2', target: 'runs/c3' },
      { source: 'runs/c3', target: 'runs/c1' },
    ];
    await editor.recordLineage({ projectId: 'p1', edges });
    const graph = await viewer.getLineage({ node: 'runs/c1', direction: LineageDirection.BOTH, depth: 10 });
    expect(names(graph)).toEqual(['runs/c1', 'runs/c2', 'runs/c3']);
    expect(pairs(graph)).toEqual(['runs/c1 -> runs/c2', 'runs/c2 -> runs/c3', 'runs/c3 -> runs/c1']);
  });

  it('refuses bad nodes and depths naming the field, and a walk past its bounds with a clear message', async () => {
    const bad = await failure(viewer.getLineage({ node: 'models/clf' }));
    expect(bad).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'LINEAGE_NODE_INVALID' });
    expect(bad?.details).toMatch(/^node: not a lineage node/);
    expect(await failure(viewer.getLineage({ node: 'runs/r1', depth: 11 }))).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^depth: is 11; walk 1 to 10 hops/) });
    expect(await failure(viewer.getLineage({ node: 'runs/never-seen' }))).toMatchObject({ code: status.NOT_FOUND, reason: 'LINEAGE_NODE_NOT_FOUND' });
    expect(await failure(editor.recordLineage({ projectId: 'p1', edges: [] }))).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(await failure(editor.recordLineage({ projectId: 'p1', edges: [{ source: 'runs/a', target: 'runs/a' }] }))).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(await failure(editor.recordLineage({ projectId: 'p1', edges: [{ source: 'runs/a', target: 'projects/p2/models/m/versions/1' }] }))).toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringMatching(/^edges\[0\]\.target: names project p2/),
    });

    const children = Array.from({ length: 1001 }, (_, index) => ({ source: 'runs/hub', target: `runs/hub-child-${index}` }));
    await editor.recordLineage({ projectId: 'p1', edges: children.slice(0, 1000) });
    await editor.recordLineage({ projectId: 'p1', edges: children.slice(1000) });
    const tooLarge = await failure(viewer.getLineage({ node: 'runs/hub', direction: LineageDirection.DOWNSTREAM, depth: 1 }));
    expect(tooLarge).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'LINEAGE_TOO_LARGE' });
    expect(tooLarge?.details).toMatch(/holds more than 1000 nodes or 5000 edges .*ask for fewer hops/);
  });

  it('hides the nodes of projects the caller may not read, and does not find a start it may not read', async () => {
    // An editor of both projects links p1's run to a p2 model version (the registry itself takes runs of the version's project only).
    const both = await lineageFor('polly', [{ project: 'p1', role: 'editor' }, { project: 'p2', role: 'editor' }]);
    const p2Model = 'projects/p2/models/borrowed/versions/1';
    await both.recordLineage({ projectId: 'p2', edges: [{ source: 'runs/r1', target: p2Model }] });
    const graph = await eventually(async () => {
      const answer = await outsider.getLineage({ node: p2Model, depth: 2 });
      expect(answer.nodes.length).toBeGreaterThan(1);
      return answer;
    });
    expect(graph.nodes.map(({ name, kind, projectId, hidden }) => ({ name, kind, projectId, hidden }))).toEqual([
      { name: p2Model, kind: LineageNodeKind.MODEL_VERSION, projectId: 'p2', hidden: false },
      { name: 'hidden/1', kind: LineageNodeKind.UNSPECIFIED, projectId: '', hidden: true },
      { name: 'hidden/2', kind: LineageNodeKind.UNSPECIFIED, projectId: '', hidden: true },
      { name: 'hidden/3', kind: LineageNodeKind.UNSPECIFIED, projectId: '', hidden: true },
      { name: 'hidden/4', kind: LineageNodeKind.UNSPECIFIED, projectId: '', hidden: true },
    ]);
    expect(graph.edges.filter((edge) => edge.origin !== '' || edge.createTime !== undefined)).toEqual([]);
    expect(await viewer.getLineage({ node: 'runs/r1', depth: 1 }).then(names)).toContain(`datasets/${datasetId}/versions/2`);
    expect(JSON.stringify(graph)).not.toMatch(/r1|mnist|p1/);

    const fromP1 = await viewer.getLineage({ node: 'runs/r1', direction: LineageDirection.DOWNSTREAM });
    expect(names(fromP1)).toEqual(['runs/r1', 'projects/p1/models/clf/versions/1', 'hidden/1']);
    expect(await failure(outsider.getLineage({ node: 'runs/r1' }))).toMatchObject({ code: status.NOT_FOUND, reason: 'LINEAGE_NODE_NOT_FOUND' });
    expect(await failure(outsider.recordLineage({ projectId: 'p2', edges: [{ source: 'runs/r1', target: 'jobs/j9' }] }))).toMatchObject({
      code: status.FAILED_PRECONDITION,
      reason: 'LINEAGE_PROJECT_MISMATCH',
    });
  });

  it("moves a node to the project its owner's event names, whatever an explicit record claimed first", async () => {
    await editor.recordLineage({ projectId: 'p1', edges: [{ source: 'runs/r9', target: 'jobs/j9' }] });
    expect((await viewer.getLineage({ node: 'runs/r9', direction: LineageDirection.DOWNSTREAM })).nodes[0]).toMatchObject({ name: 'runs/r9', projectId: 'p1' });
    await publish(inputsLogged('r9', 'p2', ['datasets:/elsewhere/1']));
    await eventually(async () => expect(await failure(viewer.getLineage({ node: 'runs/r9' }))).toMatchObject({ code: status.NOT_FOUND, reason: 'LINEAGE_NODE_NOT_FOUND' }));
    const seen = await outsider.getLineage({ node: 'runs/r9', direction: LineageDirection.BOTH, depth: 1 });
    expect(seen.nodes.map(({ name, projectId, hidden }) => ({ name, projectId, hidden }))).toEqual([
      { name: 'runs/r9', projectId: 'p2', hidden: false },
      { name: 'hidden/1', projectId: '', hidden: true },
      { name: 'projects/p2/datasetReferences/elsewhere%2F1', projectId: 'p2', hidden: false },
    ]);
  });
});

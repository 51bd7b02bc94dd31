import 'reflect-metadata';
import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { Client, credentials, Metadata, status } from '@grpc/grpc-js';
import type { EventSubscription, GrpcCallError, GrpcClient, RunningService } from '@trellis/platform';
import type { TestPlatform } from '@trellis/platform/testing';
import { EndpointServiceDesc, ModelInferRequestSchema, ModelInferResponseSchema, ModelMetadataRequestSchema, ModelMetadataResponseSchema, RegistryServiceDesc, RevisionState, RevisionStateChangedEventSchema, RolloutServiceDesc, RolloutStage, type Endpoint, type RevisionStateChangedEvent } from '@trellis/proto';
import { servingService } from '@trellis/serving';
import { createTestDatabase, eventually, testNatsConfig, type TestDatabase, type TestNatsConfig } from '@trellis/testing';
import { join } from 'node:path';
import { startOnnxServing, type OnnxServing } from '../test/onnx-serving';
import { scaleModel } from './scale-model.fixture';

const erin = { sub: 'erin', bindings: [{ project: 'p1', role: 'editor' as const }] };

/** A plain grpc-js client of one replica's ModelInfer and ModelMetadata, as any KServe client calls them: it may pin a revision with the `trellis-revision` header. */
function inferenceAt(address: string, token: string) {
  const client = new Client(address, credentials.createInsecure());
  const call = <I extends DescMessage, O extends DescMessage>(method: string, input: I, output: O, request: MessageShape<I>, pin?: string) =>
    new Promise<MessageShape<O>>((resolve, reject) => {
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${token}`);
      if (pin) metadata.set('trellis-revision', pin);
      const serialize = (message: MessageShape<I>) => Buffer.from(toBinary(input, message));
      const deserialize = (bytes: Buffer) => fromBinary(output, bytes);
      client.makeUnaryRequest(`/inference.GRPCInferenceService/${method}`, serialize, deserialize, request, metadata, (error, response) => (error ? reject(error) : resolve(response!)));
    });
  return {
    /** The registry version that answered one request, pinned to a revision or as the split picks (among the revisions of `version` when given). */
    versionAnswering: async (name: string, pin?: string, version = '') => {
      const request = create(ModelInferRequestSchema, { modelName: name, modelVersion: version, inputs: [{ name: 'x', datatype: 'FP32', shape: [1n, 4n], contents: { fp32Contents: [1, 2, 3, 4] } }] });
      return (await call('ModelInfer', ModelInferRequestSchema, ModelInferResponseSchema, request, pin)).modelVersion;
    },
    /** The versions ModelMetadata lists for the model, resolved for `version`: those of the split as the replica holds it. */
    versionsListed: async (name: string, version: string) => (await call('ModelMetadata', ModelMetadataRequestSchema, ModelMetadataResponseSchema, create(ModelMetadataRequestSchema, { name, version }))).versions,
    close: () => client.close(),
  };
}

type Inference = ReturnType<typeof inferenceAt>;

describe('serving on two replicas over one PostgreSQL database and NATS (ONNX)', () => {
  const databases: Array<TestDatabase<{ type: 'postgres'; url: string }>> = [];
  let nats: TestNatsConfig;
  let stack: OnnxServing;
  let platform: TestPlatform;
  let second: RunningService;
  let endpoints: GrpcClient<(typeof EndpointServiceDesc)['method']>;
  let rollouts: GrpcClient<(typeof RolloutServiceDesc)['method']>;
  let registry: GrpcClient<(typeof RegistryServiceDesc)['method']>;
  /** Inference through each replica: [first, second]. */
  let replicas: [Inference, Inference];

  const ready = (endpointId: string) =>
    eventually(async () => expect((await endpoints.getEndpoint({ endpointId })).endpoint!.revisions.map((revision) => revision.state)).toEqual(expect.arrayContaining([RevisionState.READY])), {
      timeoutMs: 30_000,
    });

  beforeAll(async () => {
    databases.push(await createTestDatabase(), await createTestDatabase(), await createTestDatabase());
    nats = testNatsConfig();
    stack = await startOnnxServing('replicas', {
      TRELLIS_MODE: 'distributed',
      TRELLIS_SERVING_DATABASE_URL: databases[0].config.url,
      TRELLIS_REGISTRY_DATABASE_URL: databases[1].config.url,
      TRELLIS_TRACKING_DATABASE_URL: databases[2].config.url,
      ...nats.env,
      // Each replica picks its own REST port; the spec speaks gRPC to each.
      TRELLIS_SERVING_HTTP_PORT: '0',
      // No reconcile pass within the spec: only an event can tell a replica of a change made through the other.
      TRELLIS_SERVING_RECONCILE_INTERVAL_MS: '3600000',
      TRELLIS_SERVING_ROLLOUT_INTERVAL_MS: '50',
    });
    platform = stack.platform;
    second = await platform.startService(servingService);
    endpoints = await platform.client(EndpointServiceDesc, stack.serving.grpcAddress, erin);
    rollouts = await platform.client(RolloutServiceDesc, stack.serving.grpcAddress, erin);
    registry = await platform.client(RegistryServiceDesc, stack.registry.grpcAddress, erin);
    const token = await platform.keys.mint(erin);
    replicas = [inferenceAt(stack.serving.grpcAddress, token), inferenceAt(second.grpcAddress, token)];
    await stack.registerVersions(erin, await stack.createRun(erin, 'churn'), 'churn', [
      ['v1', await scaleModel(2, join(stack.dir, 'v1.onnx'))],
      ['v2', await scaleModel(3, join(stack.dir, 'v2.onnx'))],
    ]);
  }, 180_000);

  afterAll(async () => {
    for (const replica of replicas ?? []) replica.close();
    await stack?.stop();
    await nats?.cleanup();
    for (const database of databases) await database.drop();
  });

  it('serves a traffic change made through one replica on the other as soon as its event arrives', async () => {
    const created = (await endpoints.createEndpoint({ projectId: 'p1', name: 'split', model: 'models:/churn/1' })).endpoint!;
    await ready(created.id);
    const { revision: canary } = await endpoints.deployRevision({ endpointId: created.id, model: 'models:/churn/2', trafficPercent: 0 });
    // The second replica reads the endpoint now, with all of the traffic on version 1, and holds it.
    expect(await replicas[1].versionAnswering('split')).toBe('1');
    expect(await replicas[1].versionAnswering('split')).toBe('1');

    await endpoints.setTraffic({ endpointId: created.id, traffic: { targets: [{ revisionId: canary!.id, percent: 100 }] } });
    await eventually(async () => expect(await replicas[1].versionAnswering('split')).toBe('2'), { timeoutMs: 20_000 });
    expect(await replicas[0].versionAnswering('split')).toBe('2');

    await endpoints.rollbackEndpoint({ endpointId: created.id });
    await eventually(async () => expect(await replicas[1].versionAnswering('split')).toBe('1'), { timeoutMs: 20_000 });
  });

  it("shows on the other replica a revision's FAILED reason as soon as its state_changed event arrives, without loading it there", async () => {
    const settled: RevisionStateChangedEvent[] = [];
    const watch: EventSubscription = await platform.runtime.bus.watch({
      subject: 'trellis.serving.v1.revision.state_changed',
      since: new Date(),
      handler: async (envelope) => void settled.push(fromBinary(RevisionStateChangedEventSchema, envelope.payload)),
    });
    await registry.createModel({ projectId: 'p1', name: 'unreachable' });
    await registry.createVersion({ projectId: 'p1', modelName: 'unreachable', source: 's3://models/unreachable/model.onnx', format: 'onnx' });
    const created = (await endpoints.createEndpoint({ projectId: 'p1', name: 'mixed', model: 'models:/churn/2' })).endpoint!;
    await ready(created.id);
    await eventually(() => expect(settled).toContainEqual(expect.objectContaining({ endpointId: created.id, endpointName: 'mixed', revisionNumber: 1, state: RevisionState.READY, stateMessage: '' })));
    expect(await replicas[1].versionAnswering('mixed')).toBe('2');

    // Every update of a revision waits on a lock the spec holds, so the first replica cannot settle the new one yet.
    const database = stack.serving.dataSource;
    await database.query(`CREATE FUNCTION hold_revision_updates() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_advisory_xact_lock_shared(16); RETURN NEW; END $$`);
    await database.query('CREATE TRIGGER hold_revision_updates BEFORE UPDATE ON revisions FOR EACH ROW EXECUTE FUNCTION hold_revision_updates()');
    const holder = database.createQueryRunner();
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock(16)');
    let failing: string;
    try {
      failing = (await endpoints.deployRevision({ endpointId: created.id, model: 'models:/unreachable/1', trafficPercent: 50 })).revision!.id;
      const settling = async () =>
        ((await database.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'UPDATE "revisions"%'`)) as Array<{ n: number }>)[0].n;
      await eventually(async () => expect(await settling()).toBe(1), { timeoutMs: 30_000 });
      // Once the traffic change reaches it, the second replica reads the new split, with the new revision PENDING, and holds it
      // (asked for version 2, which the revision it has loaded serves, it loads nothing and writes nothing).
      await eventually(async () => expect(await replicas[1].versionsListed('mixed', '2')).toEqual(['2', '1']), { timeoutMs: 30_000 });
    } finally {
      await holder.query('SELECT pg_advisory_unlock(16)');
      await holder.release();
      await database.query('DROP TRIGGER hold_revision_updates ON revisions');
      await database.query('DROP FUNCTION hold_revision_updates()');
    }

    await eventually(() => expect(settled.map((event) => event.revisionId)).toContain(failing), { timeoutMs: 30_000 });
    await watch.stop();
    const event = settled.find((each) => each.revisionId === failing)!;
    expect(event).toMatchObject({ endpointId: created.id, endpointName: 'mixed', revisionNumber: 2, state: RevisionState.FAILED, projectId: 'p1' });
    expect(event.stateMessage).toMatch(/^fetching its files from the registry failed: version 1 of model unreachable is a reference to s3:\/\/models\/unreachable\/model\.onnx/);
    // Loading it there would answer UNAVAILABLE; the event made the second replica read the state the first one recorded.
    expect(await replicas[1].versionAnswering('mixed', undefined, '1').catch((error: GrpcCallError) => error)).toMatchObject({
      code: status.FAILED_PRECONDITION,
      details: expect.stringContaining("every revision of endpoint mixed's split failed to load; revision 2: fetching its files from the registry failed: version 1 of model unreachable"),
    });
  });

  it('fails a revision of a version the registry holds only as a reference, saying what to deploy instead', async () => {
    await registry.createModel({ projectId: 'p1', name: 'elsewhere' });
    await registry.createVersion({ projectId: 'p1', modelName: 'elsewhere', source: 's3://models/elsewhere/model.onnx', format: 'onnx' });
    const created = (await endpoints.createEndpoint({ projectId: 'p1', name: 'elsewhere', model: 'models:/elsewhere/1' })).endpoint!;
    await eventually(async () => expect((await endpoints.getEndpoint({ endpointId: created.id })).endpoint!.revisions[0].state).toBe(RevisionState.FAILED), { timeoutMs: 30_000 });
    expect((await endpoints.getEndpoint({ endpointId: created.id })).endpoint!.revisions[0].stateMessage).toBe(
      'fetching its files from the registry failed: version 1 of model elsewhere is a reference to s3://models/elsewhere/model.onnx: the registry keeps no copy of its files, ' +
        'and serving loads only the files the registry keeps. Register a version the registry copies (log the files to a run and create the version from runs:/<run id>/<path>) and deploy that version instead',
    );
  });

  it("judges a canary on the requests of both replicas: neither one's share alone reaches min_requests", async () => {
    await registry.setAlias({ projectId: 'p1', modelName: 'churn', alias: 'champion', version: 1n });
    const followed: Endpoint = (await endpoints.createEndpoint({ projectId: 'p1', name: 'followed', model: 'models:/churn@champion' })).endpoint!;
    await ready(followed.id);
    const guards = { maxErrorPercent: 5, maxP99LatencyMs: 60_000n, minRequests: 20n };
    await rollouts.setRolloutPolicy({ endpointId: followed.id, policy: { follow: 'models:/churn@champion', canaryPercent: 50, bakeTimeMs: 100n, guards } });
    await registry.setAlias({ projectId: 'p1', modelName: 'churn', alias: 'champion', version: 2n });
    const latest = async () => (await rollouts.listRollouts({ endpointId: followed.id })).rollouts[0];
    await eventually(async () => expect((await latest())?.stage).toBe(RolloutStage.CANARY), { timeoutMs: 30_000 });
    const candidate = (await latest())!.candidateRevisionId;

    // Ten requests to the canary through each replica: twenty in all, the least the policy judges on.
    for (const replica of replicas) for (let i = 0; i < 10; i++) expect(await replica.versionAnswering('followed', candidate)).toBe('2');
    await eventually(async () => expect(await latest()).toMatchObject({ stage: RolloutStage.PROMOTED, requests: 20n, errors: 0n }), { timeoutMs: 30_000 });
    expect((await latest())!.reason).toMatch(/^baked within its guards: error rate 0\.0%, p99 latency [0-9.]+ ms over 20 requests$/);
  });

  it("lets AbortRollout racing the worker's promotion change nothing: a rollout's traffic change and its decision commit together", async () => {
    await registry.setAlias({ projectId: 'p1', modelName: 'churn', alias: 'stable', version: 1n });
    const raced = (await endpoints.createEndpoint({ projectId: 'p1', name: 'raced', model: 'models:/churn@stable' })).endpoint!;
    await ready(raced.id);
    const guards = { maxErrorPercent: 5, maxP99LatencyMs: 60_000n, minRequests: 1n };
    await rollouts.setRolloutPolicy({ endpointId: raced.id, policy: { follow: 'models:/churn@stable', canaryPercent: 50, bakeTimeMs: 100n, guards } });
    await registry.setAlias({ projectId: 'p1', modelName: 'churn', alias: 'stable', version: 2n });
    const latest = async () => (await rollouts.listRollouts({ endpointId: raced.id })).rollouts[0];
    await eventually(async () => expect((await latest())?.stage).toBe(RolloutStage.CANARY), { timeoutMs: 30_000 });

    // The endpoint's row held, so that the worker's promotion and the abort both wait on it, in that order.
    const database = stack.serving.dataSource;
    const waiting = async () =>
      ((await database.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FROM "endpoints"%FOR UPDATE%'`)) as Array<{ n: number }>)[0].n;
    const holder = database.createQueryRunner();
    await holder.connect();
    await holder.startTransaction();
    await holder.query('SELECT id FROM endpoints WHERE id = $1 FOR UPDATE', [raced.id]);
    expect(await replicas[0].versionAnswering('raced', (await latest())!.candidateRevisionId)).toBe('2');
    await eventually(async () => expect(await waiting()).toBe(1), { timeoutMs: 30_000 });
    const abort = rollouts.abortRollout({ endpointId: raced.id }).then(() => undefined, (error: GrpcCallError) => error);
    await eventually(async () => expect(await waiting()).toBe(2), { timeoutMs: 30_000 });
    await holder.commitTransaction();
    await holder.release();

    expect(await abort).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'NO_ROLLOUT_IN_PROGRESS', details: expect.stringContaining('it was decided meanwhile') });
    expect(await latest()).toMatchObject({ stage: RolloutStage.PROMOTED });
    const { endpoint } = await endpoints.getEndpoint({ endpointId: raced.id });
    expect(endpoint!.traffic!.targets.map((target) => [endpoint!.revisions.find((revision) => revision.id === target.revisionId)!.modelVersion, target.percent])).toEqual([[2n, 100]]);
  });
});

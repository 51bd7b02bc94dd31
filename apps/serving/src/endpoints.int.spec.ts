import 'reflect-metadata';
import { fromBinary } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { callEveryMethodWithoutToken, type EventSubscription, type GrpcCallError, type GrpcClient, type RunningService } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import storageFs from '@trellis/plugin-storage-fs';
import {
  EndpointServiceDesc,
  EndpointTrafficChangedEventSchema,
  ExperimentServiceDesc,
  PredictionServiceDesc,
  RegistryServiceDesc,
  RevisionCreatedEventSchema,
  RevisionState,
  RunServiceDesc,
  TrafficChangeCause,
  type Endpoint,
} from '@trellis/proto';
import { registryService } from '@trellis/registry';
import { servingService } from '@trellis/serving';
import { createTestDatabase, eventually, testNatsConfig } from '@trellis/testing';
import { trackingService } from '@trellis/tracking';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryRuntime } from './memory-runtime.fixture';

type Endpoints = GrpcClient<(typeof EndpointServiceDesc)['method']>;
type Registry = GrpcClient<(typeof RegistryServiceDesc)['method']>;
type Predictions = GrpcClient<(typeof PredictionServiceDesc)['method']>;
type Role = 'viewer' | 'editor' | 'admin' | 'owner';


const failure = async (call: Promise<unknown>) => (await call.then(() => undefined, (error: unknown) => error)) as GrpcCallError | undefined;
const refusal = async (call: Promise<unknown>) => {
  const error = await failure(call);
  return { code: error?.code, reason: error?.reason, details: error?.details };
};

/** Serving with the registry (and tracking, for runs) in one platform: standalone on SQLite, and distributed on PostgreSQL with NATS. */
const setups: Array<[string, () => Promise<{ env: Record<string, string>; cleanup(): Promise<void> }>]> = [
  ['SQLite', async () => ({ env: {}, cleanup: async () => undefined })],
  [
    'PostgreSQL',
    async () => {
      const databases = [await createTestDatabase(), await createTestDatabase(), await createTestDatabase()];
      const nats = testNatsConfig();
      return {
        env: {
          TRELLIS_MODE: 'distributed',
          TRELLIS_SERVING_DATABASE_URL: databases[0].config.url,
          TRELLIS_REGISTRY_DATABASE_URL: databases[1].config.url,
          TRELLIS_TRACKING_DATABASE_URL: databases[2].config.url,
          ...nats.env,
        },
        cleanup: async () => {
          await nats.cleanup();
          for (const database of databases) await database.drop();
        },
      };
    },
  ],
];

describe.each(setups)('serving endpoints through gRPC, with the registry (%s)', (_name, setup) => {
  let database: Awaited<ReturnType<(typeof setups)[number][1]>>;
  let platform: TestPlatform;
  let serving: RunningService;
  let subscription: EventSubscription;
  let editor: Endpoints;
  let viewer: Endpoints;
  let outsider: Endpoints;
  let registry: Registry;
  let predictions: Predictions;
  let runId: string;
  const events: Array<{ subject: string; payload: Uint8Array }> = [];
  const configDir = mkdtempSync(join(tmpdir(), 'trellis-serving-spec-'));

  const clientFor = (sub: string, bindings: Array<{ project: string; role: Role }>) => platform.client(EndpointServiceDesc, serving.grpcAddress, { sub, bindings });
  const revisionOf = (endpoint: Endpoint, id: string) => endpoint.revisions.find((revision) => revision.id === id)!;
  const shares = (endpoint: Endpoint | undefined) => Object.fromEntries((endpoint?.traffic?.targets ?? []).map((target) => [revisionOf(endpoint!, target.revisionId).number, target.percent]));

  beforeAll(async () => {
    database = await setup();
    // One runtime instance, `memory`, which a revision that names none runs on.
    writeFileSync(join(configDir, 'trellis.yaml'), 'runtime:\n  memory:\n    plugin: runtime-memory\n');
    const env = { ...database.env, TRELLIS_CONFIG: join(configDir, 'trellis.yaml'), TRELLIS_REGISTRY_PORT: '0', TRELLIS_TRACKING_PORT: '0', TRELLIS_SERVING_PORT: '0' };
    platform = await TestPlatform.start(env, { plugins: [storageFs, memoryRuntime] });
    subscription = await platform.runtime.bus.subscribe({
      durable: 'serving-endpoints-spec',
      subject: 'trellis.serving.v1.>',
      handler: async (envelope) => {
        events.push({ subject: envelope.subject, payload: envelope.payload });
      },
    });
    const tracking = await platform.startService(trackingService);
    const registryRunning = await platform.startService(registryService);
    serving = await platform.startService(servingService);
    const erin = { sub: 'erin', bindings: [{ project: 'p1', role: 'editor' as const }] };
    editor = await clientFor('erin', erin.bindings);
    viewer = await clientFor('vic', [{ project: 'p1', role: 'viewer' }]);
    outsider = await clientFor('oscar', [{ project: 'p2', role: 'owner' }]);
    predictions = await platform.client(PredictionServiceDesc, serving.grpcAddress, { sub: 'vic', bindings: [{ project: 'p1', role: 'viewer' }] });
    registry = await platform.client(RegistryServiceDesc, registryRunning.grpcAddress, erin);
    const experiments = await platform.client(ExperimentServiceDesc, tracking.grpcAddress, erin);
    const runs = await platform.client(RunServiceDesc, tracking.grpcAddress, erin);
    const experimentId = (await experiments.createExperiment({ projectId: 'p1', name: 'churn' })).experiment!.id;
    runId = (await runs.createRun({ experimentId, runName: 'train' })).run!.info!.id;
    await registry.createModel({ projectId: 'p1', name: 'churn' });
    for (const source of ['s3://models/churn/1/model.onnx', 's3://models/churn/2/model.onnx', 's3://models/churn/3/model.onnx']) {
      await registry.createVersion({ projectId: 'p1', modelName: 'churn', source, runId, format: 'onnx' });
    }
    await registry.setAlias({ projectId: 'p1', modelName: 'churn', alias: 'champion', version: 2n });
  }, 60_000);

  afterAll(async () => {
    await subscription?.stop();
    await platform?.stop();
    await database?.cleanup();
    rmSync(configDir, { recursive: true, force: true });
  });

  it('answers UNAUTHENTICATED on every method without a token', async () => {
    const results = await callEveryMethodWithoutToken(servingService.grpcServices, serving.grpcAddress);
    // Health and server metadata of the Open Inference Protocol are open to anyone, as KServe's are.
    const open = ['ServerLive', 'ServerReady', 'ServerMetadata'];
    expect(results.filter((result) => result.code !== status.UNAUTHENTICATED).map((result) => result.method)).toEqual(open.map((method) => `inference.GRPCInferenceService/${method}`));
  });

  it('deploys a registered version in one call, recording its version, run and files, with all of the traffic', async () => {
    const endpoint = (await editor.createEndpoint({ projectId: 'p1', name: 'churn-v1', model: 'models:/churn/1', batching: { maxBatchSize: 32, maxQueueDelayUs: 2000n } })).endpoint!;
    expect(endpoint).toMatchObject({ projectId: 'p1', name: 'churn-v1', creatorId: 'erin', batching: { maxBatchSize: 32, maxQueueDelayUs: 2000n } });
    expect(endpoint.revisions).toHaveLength(1);
    expect(endpoint.revisions[0]).toMatchObject({
      number: 1,
      modelRef: 'models:/churn/1',
      modelName: 'churn',
      modelVersion: 1n,
      resolvedAlias: '',
      runId,
      artifactUri: 's3://models/churn/1/model.onnx',
      modelFormat: 'onnx',
      runtime: 'memory',
      replicas: 1,
      state: RevisionState.PENDING,
    });
    expect(endpoint.traffic).toMatchObject({ targets: [{ revisionId: endpoint.revisions[0].id, percent: 100 }], shadowRevisionId: '' });
    expect(endpoint.previousTraffic).toBeUndefined();
    expect((await viewer.getEndpoint({ endpointId: endpoint.id })).endpoint).toEqual(endpoint);
    await eventually(() =>
      expect(events.filter((event) => event.subject.startsWith('trellis.serving.v1.endpoint.created') || event.subject === 'trellis.serving.v1.revision.created').map((event) => event.subject)).toEqual(
        expect.arrayContaining(['trellis.serving.v1.endpoint.created', 'trellis.serving.v1.revision.created']),
      ),
    );
  });

  it('resolves an alias at deploy time and keeps that version when the alias moves', async () => {
    const endpoint = (await editor.createEndpoint({ projectId: 'p1', name: 'churn-champion', model: 'models:/churn@champion', runtime: 'memory', replicas: 3 })).endpoint!;
    expect(endpoint.revisions[0]).toMatchObject({ modelRef: 'models:/churn@champion', modelVersion: 2n, resolvedAlias: 'champion', replicas: 3 });
    await registry.setAlias({ projectId: 'p1', modelName: 'churn', alias: 'champion', version: 3n });
    expect((await viewer.getEndpoint({ endpointId: endpoint.id })).endpoint?.revisions[0].modelVersion).toBe(2n);
    const revision = (await editor.deployRevision({ endpointId: endpoint.id, model: 'models:/churn@champion', trafficPercent: 10 })).revision!;
    expect(revision).toMatchObject({ number: 2, modelVersion: 3n, resolvedAlias: 'champion' });
    await eventually(() => {
      const deployed = events.filter((event) => event.subject === 'trellis.serving.v1.revision.created').map((event) => fromBinary(RevisionCreatedEventSchema, event.payload));
      expect(deployed.find((event) => event.revision?.id === revision.id)).toMatchObject({ projectId: 'p1', endpointName: 'churn-champion', revision: { modelVersion: 3n } });
    });
  });

  it('refuses unknown models, versions, aliases and runtimes as NOT_FOUND, and malformed references naming the field', async () => {
    const create = (model: string, runtime = '') => refusal(editor.createEndpoint({ projectId: 'p1', name: 'refused', model, runtime }));
    expect(await create('models:/nope/1')).toMatchObject({ code: status.NOT_FOUND, reason: 'MODEL_VERSION_NOT_FOUND' });
    expect(await create('models:/churn/99')).toMatchObject({ code: status.NOT_FOUND, reason: 'MODEL_VERSION_NOT_FOUND' });
    expect(await create('models:/churn@nobody')).toMatchObject({ code: status.NOT_FOUND, reason: 'MODEL_VERSION_NOT_FOUND' });
    expect(await create('models:/churn/1', 'tensorrt')).toMatchObject({ code: status.NOT_FOUND, reason: 'RUNTIME_NOT_FOUND', details: expect.stringContaining('memory') });
    expect(await create('runs:/abc/model')).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^model: /) });
    expect(await refusal(editor.createEndpoint({ projectId: 'p1', name: 'has space', model: 'models:/churn/1' }))).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^name: /) });
    expect(await refusal(editor.createEndpoint({ projectId: 'p1', name: 'big', model: 'models:/churn/1', replicas: 65 }))).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^replicas: /) });
    expect(await refusal(viewer.getEndpoint({ endpointId: 'no-such-endpoint' }))).toMatchObject({ code: status.NOT_FOUND, reason: 'ENDPOINT_NOT_FOUND' });
    expect(await refusal(editor.deployRevision({ endpointId: 'no-such-endpoint', model: 'models:/churn/1' }))).toMatchObject({ code: status.NOT_FOUND, reason: 'ENDPOINT_NOT_FOUND' });
    expect(await refusal(editor.createEndpoint({ projectId: 'p1', name: 'churn-v1', model: 'models:/churn/1' }))).toMatchObject({ code: status.ALREADY_EXISTS, reason: 'ENDPOINT_NAME_TAKEN' });
  });

  it('moves traffic by weights with a shadow, refusing splits that are not whole, with the codes the API names', async () => {
    const endpoint = (await editor.createEndpoint({ projectId: 'p1', name: 'canary', model: 'models:/churn/1' })).endpoint!;
    const first = endpoint.revisions[0].id;
    const second = (await editor.deployRevision({ endpointId: endpoint.id, model: 'models:/churn/2', trafficPercent: 20 })).revision!.id;
    const deployed = await editor.deployRevision({ endpointId: endpoint.id, model: 'models:/churn/3', shadow: true });
    const third = deployed.revision!.id;
    expect(shares(deployed.endpoint)).toEqual({ 1: 80, 2: 20 });
    expect(deployed.endpoint?.traffic?.shadowRevisionId).toBe(third);

    const set = (targets: Array<[string, number]>, shadowRevisionId = '') =>
      editor.setTraffic({ endpointId: endpoint.id, traffic: { targets: targets.map(([revisionId, percent]) => ({ revisionId, percent })), shadowRevisionId } });
    expect(await refusal(set([[first, 50], [second, 40]]))).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'TRAFFIC_NOT_100', details: 'traffic.targets: percents sum to 90; they must sum to 100' });
    expect(await refusal(set([[first, 50], [first, 50]]))).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^traffic\.targets\[1\]\.revision_id: /) });
    expect(await refusal(set([[first, 100], [second, 0]]))).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^traffic\.targets\[1\]\.percent: /) });
    expect(await refusal(set([[first, 100]], first))).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'SHADOW_IN_SPLIT' });
    expect(await refusal(set([[first, 50], ['no-such-revision', 50]]))).toMatchObject({ code: status.NOT_FOUND, reason: 'REVISION_NOT_FOUND' });
    const other = (await editor.getEndpoint({ endpointId: (await editor.listEndpoints({ projectId: 'p1' })).endpoints.find((e) => e.name === 'churn-v1')!.id })).endpoint!;
    expect(await refusal(set([[other.revisions[0].id, 100]]))).toMatchObject({ code: status.NOT_FOUND, reason: 'REVISION_NOT_FOUND' });
    expect(await refusal(editor.deployRevision({ endpointId: endpoint.id, model: 'models:/churn/1', trafficPercent: 101 }))).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^traffic_percent: /) });
    // Refused calls changed nothing.
    expect(shares((await viewer.getEndpoint({ endpointId: endpoint.id })).endpoint)).toEqual({ 1: 80, 2: 20 });

    const moved = (await set([[first, 50], [third, 50]], second)).endpoint!;
    expect(shares(moved)).toEqual({ 1: 50, 3: 50 });
    expect(moved.traffic?.shadowRevisionId).toBe(second);
    expect(moved.previousTraffic?.shadowRevisionId).toBe(third);
    // The same split again is no change, so a rollback still goes back past it.
    await set([[third, 50], [first, 50]], second);
    expect(shares((await viewer.getEndpoint({ endpointId: endpoint.id })).endpoint)).toEqual({ 1: 50, 3: 50 });
  });

  it('rolls back to the previous split in one call, and a second rollback undoes the first', async () => {
    const endpoint = (await editor.createEndpoint({ projectId: 'p1', name: 'rollback', model: 'models:/churn/1' })).endpoint!;
    expect(await refusal(editor.rollbackEndpoint({ endpointId: endpoint.id }))).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'NO_PREVIOUS_TRAFFIC' });
    const deployed = (await editor.deployRevision({ endpointId: endpoint.id, model: 'models:/churn/2' })).endpoint!;
    expect(shares(deployed)).toEqual({ 2: 100 });

    const back = (await editor.rollbackEndpoint({ endpointId: endpoint.id })).endpoint!;
    expect(shares(back)).toEqual({ 1: 100 });
    expect(back.revisions.map((revision) => revision.number)).toEqual([2, 1]);
    const forward = (await editor.rollbackEndpoint({ endpointId: endpoint.id })).endpoint!;
    expect(shares(forward)).toEqual({ 2: 100 });
    await eventually(() => {
      const causes = events
        .filter((event) => event.subject === 'trellis.serving.v1.endpoint.traffic_changed')
        .map((event) => fromBinary(EndpointTrafficChangedEventSchema, event.payload))
        .filter((event) => event.endpoint?.id === endpoint.id)
        .map((event) => event.cause);
      expect(causes).toEqual([TrafficChangeCause.DEPLOY, TrafficChangeCause.ROLLBACK, TrafficChangeCause.ROLLBACK]);
    });
  });

  it('lets a viewer read but not change, and shows an outsider nothing of the project', async () => {
    const endpoint = (await editor.createEndpoint({ projectId: 'p1', name: 'guarded', model: 'models:/churn/1' })).endpoint!;
    const revisionId = endpoint.revisions[0].id;
    for (const call of [
      viewer.createEndpoint({ projectId: 'p1', name: 'mine', model: 'models:/churn/1' }),
      viewer.deployRevision({ endpointId: endpoint.id, model: 'models:/churn/2' }),
      viewer.setTraffic({ endpointId: endpoint.id, traffic: { targets: [{ revisionId, percent: 100 }] } }),
      viewer.rollbackEndpoint({ endpointId: endpoint.id }),
      viewer.deleteEndpoint({ endpointId: endpoint.id }),
    ]) {
      expect((await failure(call))?.code).toBe(status.PERMISSION_DENIED);
    }
    // Another project's endpoints look missing, so their ids tell an outsider nothing.
    expect((await failure(outsider.getEndpoint({ endpointId: endpoint.id })))?.code).toBe(status.NOT_FOUND);
    expect((await failure(outsider.rollbackEndpoint({ endpointId: endpoint.id })))?.code).toBe(status.NOT_FOUND);
    expect((await failure(outsider.listEndpoints({ projectId: 'p1' })))?.code).toBe(status.PERMISSION_DENIED);
    // The registry is asked as the caller: an outsider cannot deploy p1's models into its own project.
    expect(await refusal(outsider.createEndpoint({ projectId: 'p2', name: 'stolen', model: 'models:/churn/1' }))).toMatchObject({ code: status.NOT_FOUND, reason: 'MODEL_VERSION_NOT_FOUND' });
  });

  it('pages through endpoints by name and deletes one with its revisions', async () => {
    for (const name of ['page-c', 'page-a', 'page-b']) await editor.createEndpoint({ projectId: 'p1', name, model: 'models:/churn/1' });
    const first = await viewer.listEndpoints({ projectId: 'p1', pageSize: 2 });
    const pages = [first];
    while (pages[pages.length - 1].nextPageToken) pages.push(await viewer.listEndpoints({ projectId: 'p1', pageSize: 2, pageToken: pages[pages.length - 1].nextPageToken }));
    const listed = pages.flatMap((page) => page.endpoints);
    expect(listed.map(({ name }) => name).filter((name) => name.startsWith('page-'))).toEqual(['page-a', 'page-b', 'page-c']);
    expect(listed.filter(({ name }) => name.startsWith('page-')).map((endpoint) => endpoint.revisions.map((revision) => revision.modelRef))).toEqual([['models:/churn/1'], ['models:/churn/1'], ['models:/churn/1']]);
    expect((await failure(viewer.listEndpoints({ projectId: 'p1', pageToken: 'made-up' })))?.code).toBe(status.INVALID_ARGUMENT);

    const gone = listed.find(({ name }) => name === 'page-a')!;
    await editor.deleteEndpoint({ endpointId: gone.id });
    expect(await refusal(viewer.getEndpoint({ endpointId: gone.id }))).toMatchObject({ code: status.NOT_FOUND, reason: 'ENDPOINT_NOT_FOUND' });
    expect((await failure(editor.deleteEndpoint({ endpointId: gone.id })))?.code).toBe(status.NOT_FOUND);
    await eventually(() => expect(events.map((event) => event.subject)).toContain('trellis.serving.v1.endpoint.deleted'));
  });

  it('deploys with a rollout policy and a logging share in the same call, and creates nothing when either is refused, naming the field', async () => {
    const policy = { follow: 'models:/churn@champion', canaryPercent: 10, bakeTimeMs: 60_000n, guards: { maxErrorPercent: 2, maxP99LatencyMs: 250n, minRequests: 20n } };
    const created = (await editor.createEndpoint({ projectId: 'p1', name: 'followed', model: 'models:/churn@champion', rolloutPolicy: policy, predictionLogShare: 0.25 })).endpoint!;
    expect(created.rolloutPolicy).toMatchObject(policy);
    expect((await viewer.getEndpoint({ endpointId: created.id })).endpoint?.rolloutPolicy).toMatchObject(policy);
    expect((await predictions.getPredictionLogging({ endpointId: created.id })).logging).toMatchObject({ sampleShare: 0.25, isDefault: false });
    // Without them, an endpoint follows no alias and logs the service's default share.
    const plain = (await editor.createEndpoint({ projectId: 'p1', name: 'unfollowed', model: 'models:/churn/1' })).endpoint!;
    expect(plain.rolloutPolicy).toBeUndefined();
    expect((await predictions.getPredictionLogging({ endpointId: plain.id })).logging).toMatchObject({ sampleShare: 0, isDefault: true });

    const refused = (settings: { rolloutPolicy?: typeof policy; predictionLogShare?: number }) => refusal(editor.createEndpoint({ projectId: 'p1', name: 'refused-settings', model: 'models:/churn/1', ...settings }));
    const invalid = (field: string) => ({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(new RegExp(`^${field.replace(/\./g, '\\.')}: `)) });
    expect(await refused({ rolloutPolicy: { ...policy, follow: 'models:/churn/1' } })).toMatchObject(invalid('rollout_policy.follow'));
    expect(await refused({ rolloutPolicy: { ...policy, canaryPercent: 100 } })).toMatchObject(invalid('rollout_policy.canary_percent'));
    expect(await refused({ rolloutPolicy: { ...policy, bakeTimeMs: 0n } })).toMatchObject(invalid('rollout_policy.bake_time_ms'));
    expect(await refused({ rolloutPolicy: { ...policy, guards: { ...policy.guards, maxErrorPercent: 101 } } })).toMatchObject(invalid('rollout_policy.guards.max_error_percent'));
    expect(await refused({ rolloutPolicy: policy, predictionLogShare: 1.5 })).toMatchObject(invalid('prediction_log_share'));
    expect(await refused({ predictionLogShare: -0.1 })).toMatchObject(invalid('prediction_log_share'));
    // Refused calls created nothing: the name is still free.
    expect((await viewer.listEndpoints({ projectId: 'p1', pageSize: 1000 })).endpoints.map(({ name }) => name)).not.toContain('refused-settings');
    expect((await editor.createEndpoint({ projectId: 'p1', name: 'refused-settings', model: 'models:/churn/1' })).endpoint?.rolloutPolicy).toBeUndefined();
  });
});

import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { timestampFromMs, timestampMs, timestampNow } from '@bufbuild/protobuf/wkt';
import { status, type ServiceError } from '@grpc/grpc-js';
import { callEveryMethodWithoutToken, startService, type EventSubscription, type GrpcClient, type RunningService } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import {
  AliasDeletedEventSchema,
  AliasSetEventSchema,
  EventEnvelopeSchema,
  ModelVersionStatus,
  RegistryServiceDesc,
  VersionCreatedEventSchema,
  VersionSettledEventSchema,
} from '@trellis/proto';
import { createTestDatabase, eventually, testNatsConfig, type TestNatsConfig } from '@trellis/testing';
import { definePlugin, z } from '@trellis/plugin-sdk';
import { MemoryObjectStore } from '@trellis/plugin-sdk/testing';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegisteredModelEntity } from './models/model.entity';
import { INTERRUPTED } from './version-files/version-file.service';
import { VersionWaiters } from './versions/version-waiters';
import { ModelVersionEntity } from './versions/version.entity';
import { registryService } from './registry.definition';

type Client = GrpcClient<(typeof RegistryServiceDesc)['method']>;
type Role = 'viewer' | 'editor' | 'admin' | 'owner';

const failure = async (call: Promise<unknown>) => (await call.then(() => undefined, (error: unknown) => error)) as ServiceError | undefined;

// Each database once: the searches, row locks and upserts are written for both.
const databases = [
  { label: 'SQLite, standalone kit', distributed: false },
  { label: 'PostgreSQL and NATS JetStream, distributed kit', distributed: true },
];

/** The registry on its own: what needs neither tracking nor governance. */
describe.each(databases)('registry through gRPC ($label)', ({ distributed }) => {
  let platform: TestPlatform;
  let service: RunningService;
  let editor: Client;
  let viewer: Client;
  let admin: Client;
  let outsider: Client;
  let subscription: EventSubscription;
  const events: Array<{ subject: string; payload: Uint8Array }> = [];

  const clientFor = (sub: string, bindings: Array<{ project: string; role: Role }>) => platform.client(RegistryServiceDesc, service.grpcAddress, { sub, bindings });

  let configDir: string;
  let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  let nats: TestNatsConfig | undefined;

  beforeAll(async () => {
    // The registry's store: the SDK's in-memory one (a service lib builds in no real plugin).
    const memoryStorage = definePlugin({
      manifest: { kind: 'storage', id: 'storage-memory', apiVersion: 'v1' },
      configSchema: z.object({}),
      create: () => new MemoryObjectStore(),
    });
    configDir = mkdtempSync(join(tmpdir(), 'trellis-registry-spec-'));
    writeFileSync(join(configDir, 'trellis.yaml'), 'storage:\n  default:\n    plugin: storage-memory\n');
    let env: Record<string, string> = { TRELLIS_REGISTRY_PORT: '0', TRELLIS_CONFIG: join(configDir, 'trellis.yaml') };
    if (distributed) {
      database = await createTestDatabase();
      nats = testNatsConfig();
      env = { ...env, TRELLIS_MODE: 'distributed', TRELLIS_REGISTRY_DATABASE_URL: database.config.url, ...nats.env };
    }
    platform = await TestPlatform.start(env, { plugins: [memoryStorage] });
    subscription = await platform.runtime.bus.subscribe({
      durable: 'registry-spec',
      subject: 'trellis.registry.v1.>',
      handler: async (envelope) => void events.push({ subject: envelope.subject, payload: envelope.payload }),
    });
    service = await platform.startService(registryService);
    editor = await clientFor('erin', [{ project: 'p1', role: 'editor' }, { project: 'p2', role: 'editor' }]);
    viewer = await clientFor('vic', [{ project: 'p1', role: 'viewer' }]);
    admin = await clientFor('ada', [{ project: 'p1', role: 'admin' }]);
    outsider = await clientFor('oscar', [{ project: 'p3', role: 'owner' }]);
  });

  afterAll(async () => {
    rmSync(configDir, { recursive: true, force: true });
    await subscription?.stop();
    await platform?.stop();
    await nats?.cleanup();
    await database?.drop();
  });

  const newModel = async (name: string, projectId = 'p1') => (await editor.createModel({ projectId, name })).model!;
  const newVersion = async (name: string, source = 's3://bucket/model.onnx', projectId = 'p1') =>
    (await editor.createVersion({ projectId, modelName: name, source })).version!;

  it('answers UNAUTHENTICATED on every method without a token', async () => {
    const results = await callEveryMethodWithoutToken(registryService.grpcServices, service.grpcAddress);
    expect(results.filter((result) => result.code !== status.UNAUTHENTICATED)).toEqual([]);
  });

  it('creates, reads, updates, renames and deletes a model, with names unique per project', async () => {
    const created = (await editor.createModel({ projectId: 'p1', name: 'churn', description: 'first', tags: [{ key: 'team', value: 'a' }] })).model!;
    expect(created).toMatchObject({ projectId: 'p1', name: 'churn', description: 'first', latestVersion: 0n, creatorId: 'erin', tags: [{ key: 'team', value: 'a' }] });
    expect((await failure(editor.createModel({ projectId: 'p1', name: 'churn' })))?.code).toBe(status.ALREADY_EXISTS);
    expect((await editor.createModel({ projectId: 'p2', name: 'churn' })).model?.projectId).toBe('p2');

    const updated = (await editor.updateModel({ model: { projectId: 'p1', name: 'churn', description: 'second' }, updateMask: { paths: ['description'] } })).model!;
    expect(updated.description).toBe('second');
    expect(timestampMs(updated.updateTime!)).toBeGreaterThanOrEqual(timestampMs(created.createTime!));
    expect((await failure(editor.updateModel({ model: { projectId: 'p1', name: 'churn', description: 'x' } })))?.details).toContain('update_mask');
    const immutable = await failure(editor.updateModel({ model: { projectId: 'p1', name: 'churn', creatorId: 'mallory' }, updateMask: { paths: ['creator_id'] } }));
    expect([immutable?.code, immutable?.details]).toEqual([status.INVALID_ARGUMENT, expect.stringContaining('"creator_id" cannot be changed')]);
    expect((await failure(editor.updateModel({ updateMask: { paths: ['description'] } })))?.details).toMatch(/^model: is required/);
    // Fields outside the mask stay as they are, whatever the message holds.
    const masked = (await editor.updateModel({ model: { projectId: 'p1', name: 'churn', description: 'ignored', protectedAliases: ['x'] }, updateMask: { paths: ['description'] } }))
      .model!;
    expect(masked).toMatchObject({ description: 'ignored', protectedAliases: [] });
    await editor.updateModel({ model: { projectId: 'p1', name: 'churn', description: 'second' }, updateMask: { paths: ['description'] } });
    await editor.setModelTag({ projectId: 'p1', modelName: 'churn', tag: { key: 'team', value: 'b' } });
    expect((await failure(editor.deleteModelTag({ projectId: 'p1', modelName: 'churn', key: 'nope' })))?.code).toBe(status.NOT_FOUND);

    const renamed = (await editor.renameModel({ projectId: 'p1', modelName: 'churn', newName: 'churn-v2' })).model!;
    expect(renamed).toMatchObject({ name: 'churn-v2', tags: [{ key: 'team', value: 'b' }] });
    expect((await failure(viewer.getModel({ projectId: 'p1', modelName: 'churn' })))?.code).toBe(status.NOT_FOUND);
    expect((await viewer.getModel({ projectId: 'p1', modelName: 'churn-v2' })).model?.description).toBe('second');

    await editor.deleteModel({ projectId: 'p1', modelName: 'churn-v2' });
    expect((await failure(viewer.getModel({ projectId: 'p1', modelName: 'churn-v2' })))?.code).toBe(status.NOT_FOUND);
  });

  it('rejects bad names and tags, naming the field', async () => {
    const cases: Array<[Parameters<Client['createModel']>[0], string]> = [
      [{ projectId: 'p1', name: '' }, 'name'],
      [{ projectId: 'p1', name: 'a/b' }, 'name'],
      [{ projectId: 'p1', name: 'x'.repeat(257) }, 'name'],
      [{ projectId: 'p1', name: 'ok', tags: [{ key: '', value: 'v' }] }, 'tags[0].key'],
      [{ projectId: 'p1', name: 'ok', tags: [{ key: 'k'.repeat(251), value: 'v' }] }, 'tags[0].key'],
      [{ projectId: 'p1', name: 'ok', tags: [{ key: 'k', value: 'v'.repeat(5001) }] }, 'tags[0].value'],
    ];
    for (const [request, field] of cases) {
      const error = await failure(editor.createModel(request));
      expect(error?.code).toBe(status.INVALID_ARGUMENT);
      expect(error?.details).toContain(field);
    }
    expect((await editor.createModel({ projectId: 'p1', name: 'x'.repeat(256) })).model?.name).toHaveLength(256);
  });

  it('lets a viewer read but not write, and an outsider neither', async () => {
    await newModel('guarded');
    expect((await viewer.getModel({ projectId: 'p1', modelName: 'guarded' })).model?.name).toBe('guarded');
    expect((await failure(viewer.createModel({ projectId: 'p1', name: 'mine' })))?.code).toBe(status.PERMISSION_DENIED);
    expect((await failure(viewer.createVersion({ projectId: 'p1', modelName: 'guarded', source: 's3://b/m' })))?.code).toBe(status.PERMISSION_DENIED);
    expect((await failure(viewer.deleteModel({ projectId: 'p1', modelName: 'guarded' })))?.code).toBe(status.PERMISSION_DENIED);
    const outside = await failure(outsider.getModel({ projectId: 'p1', modelName: 'guarded' }));
    expect(outside?.code).toBe(status.PERMISSION_DENIED);
    // An outsider is refused before the name is looked up, so missing and existing models look alike.
    expect((await failure(outsider.getModel({ projectId: 'p1', modelName: 'no-such-model' })))?.code).toBe(status.PERMISSION_DENIED);
    expect((await failure(outsider.searchModels({ projectIds: ['p1'] })))?.code).toBe(status.PERMISSION_DENIED);
  });

  it('lets only project admins choose protected aliases', async () => {
    expect((await failure(editor.createModel({ projectId: 'p1', name: 'prod', protectedAliases: ['champion'] })))?.code).toBe(status.PERMISSION_DENIED);
    await admin.createModel({ projectId: 'p1', name: 'prod', protectedAliases: ['champion'] });
    const denied = await failure(editor.updateModel({ model: { projectId: 'p1', name: 'prod', protectedAliases: [] }, updateMask: { paths: ['protected_aliases'] } }));
    expect(denied?.code).toBe(status.PERMISSION_DENIED);
    // '*' names every field, protected_aliases too.
    expect((await failure(editor.updateModel({ model: { projectId: 'p1', name: 'prod', description: 'd' }, updateMask: { paths: ['*'] } })))?.code).toBe(status.PERMISSION_DENIED);
    const reserved = await failure(admin.updateModel({ model: { projectId: 'p1', name: 'prod', protectedAliases: ['latest'] }, updateMask: { paths: ['protected_aliases'] } }));
    expect([reserved?.code, reserved?.details]).toEqual([status.INVALID_ARGUMENT, expect.stringMatching(/^model\.protected_aliases\[0\]: /)]);
    const model = (await admin.updateModel({ model: { projectId: 'p1', name: 'prod', description: 'guarded', protectedAliases: ['champion', 'canary'] }, updateMask: { paths: ['*'] } }))
      .model!;
    expect(model).toMatchObject({ description: 'guarded', protectedAliases: ['canary', 'champion'] });
  });

  it('lets no editor swap a protected model out by name: renaming or deleting it takes a project admin', async () => {
    await admin.createModel({ projectId: 'p1', name: 'served', protectedAliases: ['champion'] });
    await editor.createModel({ projectId: 'p1', name: 'shadow' });
    await editor.createVersion({ projectId: 'p1', modelName: 'shadow', source: 's3://elsewhere/model' });
    await editor.setAlias({ projectId: 'p1', modelName: 'shadow', alias: 'champion', version: 1n });
    const renamed = await failure(editor.renameModel({ projectId: 'p1', modelName: 'served', newName: 'served-old' }));
    expect(renamed?.code).toBe(status.PERMISSION_DENIED);
    expect(renamed?.details).toBe('model "served" has protected aliases (champion): only a project admin may rename it');
    expect(renamed).toMatchObject({ reason: 'MODEL_PROTECTED', resource: 'projects/p1/models/served' });
    expect((await failure(editor.deleteModel({ projectId: 'p1', modelName: 'served' })))?.code).toBe(status.PERMISSION_DENIED);
    expect((await editor.renameModel({ projectId: 'p1', modelName: 'shadow', newName: 'shadow-2' })).model?.name).toBe('shadow-2');
    expect((await admin.renameModel({ projectId: 'p1', modelName: 'served', newName: 'served-2' })).model?.name).toBe('served-2');
  });

  it('numbers versions from 1 without gaps or duplicates when many are created at once', async () => {
    await newModel('parallel');
    const created = await Promise.all(Array.from({ length: 10 }, (_, i) => editor.createVersion({ projectId: 'p1', modelName: 'parallel', source: `s3://b/m${i}` })));
    expect(created.map((response) => Number(response.version!.version)).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect((await viewer.getModel({ projectId: 'p1', modelName: 'parallel' })).model?.latestVersion).toBe(10n);
    // A deleted number is not given out again.
    await editor.deleteVersion({ projectId: 'p1', modelName: 'parallel', version: 10n });
    expect((await newVersion('parallel')).version).toBe(11n);
  });

  it('keeps other URIs as references, READY at once, and copies a reference version as a reference', async () => {
    await newModel('refs');
    const version = (await editor.createVersion({
      projectId: 'p1',
      modelName: 'refs',
      source: 'https://example.com/model.onnx',
      format: 'onnx',
      description: 'a reference',
      signature: { inputs: [{ name: 'x', dtype: 'float32', shape: [-1n, 3n] }], outputs: [{ name: 'y', dtype: 'float32', shape: [-1n] }] },
      tags: [{ key: 'stage', value: 'dev' }],
    })).version!;
    expect(version).toMatchObject({ version: 1n, status: ModelVersionStatus.READY, storageUri: 'https://example.com/model.onnx', format: 'onnx', runId: '' });
    expect(version.signature?.inputs[0]).toMatchObject({ name: 'x', dtype: 'float32', shape: [-1n, 3n] });
    const got = (await viewer.getVersion({ projectId: 'p1', modelName: 'refs', version: 1n })).version!;
    expect(got.tags).toEqual([expect.objectContaining({ key: 'stage', value: 'dev' })]);
    expect(got.signature?.outputs[0].shape).toEqual([-1n]);

    const copy = (await editor.createVersion({ projectId: 'p1', modelName: 'refs', source: 'models:/refs/1' })).version!;
    expect(copy).toMatchObject({ version: 2n, status: ModelVersionStatus.READY, storageUri: 'https://example.com/model.onnx', source: 'models:/refs/1' });
    const files = await failure(viewer.listVersionFiles({ projectId: 'p1', modelName: 'refs', version: 2n }));
    expect(files?.code).toBe(status.FAILED_PRECONDITION);
    expect(files?.details).toContain('reference');

    const updated = (await editor.updateVersion({ version: { projectId: 'p1', modelName: 'refs', version: 2n, description: 'copied' }, updateMask: { paths: ['description'] } })).version!;
    expect(updated.description).toBe('copied');
    const unchanged = await failure(editor.updateVersion({ version: { projectId: 'p1', modelName: 'refs', version: 2n, description: 'dropped' }, updateMask: { paths: [] } }));
    expect([unchanged?.code, unchanged?.details]).toEqual([status.INVALID_ARGUMENT, expect.stringMatching(/^update_mask: /)]);
    const source = await failure(editor.updateVersion({ version: { projectId: 'p1', modelName: 'refs', version: 2n, source: 's3://elsewhere' }, updateMask: { paths: ['source'] } }));
    expect(source?.details).toContain('"source" cannot be changed');
    expect((await failure(editor.updateVersion({ updateMask: { paths: ['description'] } })))?.details).toMatch(/^version: is required/);
    expect((await viewer.getVersion({ projectId: 'p1', modelName: 'refs', version: 2n })).version).toMatchObject({ description: 'copied', source: 'models:/refs/1' });
    await editor.setVersionTag({ projectId: 'p1', modelName: 'refs', version: 2n, tag: { key: 'k', value: 'v' } });
    await editor.deleteVersionTag({ projectId: 'p1', modelName: 'refs', version: 2n, key: 'k' });
    expect((await viewer.getVersion({ projectId: 'p1', modelName: 'refs', version: 2n })).version?.tags).toEqual([]);
    expect((await viewer.getVersionLineage({ projectId: 'p1', modelName: 'refs', version: 1n })).lineage).toMatchObject({ runId: '', datasets: [] });
  });

  it('rejects malformed sources and unknown versions, naming them', async () => {
    await newModel('sources');
    const escaping = ['s3a://bucket/models/../../other', 'mlflow-artifacts://host/..%2f..%2fetc', 'https://host/api/2.0/mlflow-artifacts/artifacts%00', 'dbfs:/a/./b', 'ftp://host/a/%2e%2e/b'];
    for (const source of ['', 'runs:/', 'runs:/abc/../x', 'models:/sources', 'models:/sources/abc', 'models:/sources@latest', ...escaping]) {
      const error = await failure(editor.createVersion({ projectId: 'p1', modelName: 'sources', source }));
      expect([source, error?.code]).toEqual([source, status.INVALID_ARGUMENT]);
    }
    expect((await failure(editor.createVersion({ projectId: 'p1', modelName: 'sources', source: escaping[0] })))?.details).toMatch(/^Invalid model version source: .*without relative path references/);
    expect((await viewer.getModel({ projectId: 'p1', modelName: 'sources' })).model?.latestVersion).toBe(0n);
    expect((await failure(editor.createVersion({ projectId: 'p1', modelName: 'sources', source: 'models:/sources/7' })))?.details).toContain('no version 7');
    expect((await failure(editor.createVersion({ projectId: 'p1', modelName: 'sources', source: 'models:/sources@prod' })))?.details).toContain('no alias prod');
    expect((await failure(viewer.getVersion({ projectId: 'p1', modelName: 'sources', version: 3n })))?.code).toBe(status.NOT_FOUND);
    expect((await failure(viewer.getVersion({ projectId: 'p1', modelName: 'sources', version: 0n })))?.code).toBe(status.INVALID_ARGUMENT);
  });

  it('answers UNAVAILABLE, creating nothing, for a run source while tracking is not reachable', async () => {
    await newModel('no-tracking');
    const error = await failure(editor.createVersion({ projectId: 'p1', modelName: 'no-tracking', source: `runs:/${'a'.repeat(32)}/model` }));
    expect(error?.code).toBe(status.UNAVAILABLE);
    expect(error?.details).toContain('TRELLIS_TRACKING_ADDRESS');
    expect((await viewer.getModel({ projectId: 'p1', modelName: 'no-tracking' })).model?.latestVersion).toBe(0n);
  });

  it('sets, moves and deletes aliases, keeping every change in the history', async () => {
    await newModel('aliased');
    for (let i = 0; i < 3; i++) await newVersion('aliased');
    const set = (await editor.setAlias({ projectId: 'p1', modelName: 'aliased', alias: 'prod', version: 1n })).change!;
    expect(set).toMatchObject({ alias: 'prod', fromVersion: 0n, toVersion: 1n, actorId: 'erin', approvalId: '' });
    const afterFirst = timestampMs(set.changeTime!);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const moved = (await editor.setAlias({ projectId: 'p1', modelName: 'aliased', alias: 'prod', version: 2n })).change!;
    expect(moved).toMatchObject({ fromVersion: 1n, toVersion: 2n });
    await editor.setAlias({ projectId: 'p1', modelName: 'aliased', alias: 'canary', version: 3n });

    expect((await viewer.getVersionByAlias({ projectId: 'p1', modelName: 'aliased', alias: 'prod' })).version).toMatchObject({ version: 2n, aliases: ['prod'] });
    expect((await viewer.getModel({ projectId: 'p1', modelName: 'aliased' })).model?.aliases.map((a) => `${a.alias}=${a.version}`)).toEqual(['canary=3', 'prod=2']);
    expect((await viewer.getVersionByAlias({ projectId: 'p1', modelName: 'aliased', alias: 'prod', atTime: timestampFromMs(afterFirst) })).version?.version).toBe(1n);
    // The history is kept to the millisecond: any moment within it reads as that millisecond.
    const withinIt = { seconds: BigInt(Math.floor(afterFirst / 1000)), nanos: (afterFirst % 1000) * 1_000_000 + 999_999 };
    expect((await viewer.getVersionByAlias({ projectId: 'p1', modelName: 'aliased', alias: 'prod', atTime: withinIt })).version?.version).toBe(1n);
    expect((await failure(viewer.getVersionByAlias({ projectId: 'p1', modelName: 'aliased', alias: 'prod', atTime: timestampFromMs(afterFirst - 1) })))?.code).toBe(status.NOT_FOUND);
    expect((await failure(viewer.getVersionByAlias({ projectId: 'p1', modelName: 'aliased', alias: 'prod', atTime: { seconds: 9_000_000_000_000n } })))?.details).toMatch(/^at_time: /);

    const heldVersion = await failure(editor.deleteVersion({ projectId: 'p1', modelName: 'aliased', version: 2n }));
    expect(heldVersion?.code).toBe(status.FAILED_PRECONDITION);
    expect(heldVersion?.details).toContain('prod');
    const heldModel = await failure(editor.deleteModel({ projectId: 'p1', modelName: 'aliased' }));
    expect(heldModel?.code).toBe(status.FAILED_PRECONDITION);
    expect(heldModel?.details).toMatch(/canary.*prod/);

    const deleted = (await editor.deleteAlias({ projectId: 'p1', modelName: 'aliased', alias: 'prod' })).change!;
    expect(deleted).toMatchObject({ fromVersion: 2n, toVersion: 0n });
    expect((await failure(viewer.getVersionByAlias({ projectId: 'p1', modelName: 'aliased', alias: 'prod' })))?.code).toBe(status.NOT_FOUND);
    expect((await failure(editor.deleteAlias({ projectId: 'p1', modelName: 'aliased', alias: 'prod' })))?.code).toBe(status.NOT_FOUND);
    // The history outlives the version it names.
    await editor.deleteVersion({ projectId: 'p1', modelName: 'aliased', version: 1n });
    const gone = await failure(viewer.getVersionByAlias({ projectId: 'p1', modelName: 'aliased', alias: 'prod', atTime: timestampFromMs(afterFirst) }));
    expect(gone?.details).toContain('since been deleted');
    expect(gone).toMatchObject({ code: status.NOT_FOUND, reason: 'ALIAS_TARGET_DELETED', resource: 'projects/p1/models/aliased/aliases/prod' });

    const first = await viewer.listAliasHistory({ projectId: 'p1', modelName: 'aliased', pageSize: 2 });
    expect(first.changes.map((c) => `${c.alias}:${c.fromVersion}->${c.toVersion}`)).toEqual(['prod:2->0', 'canary:0->3']);
    const second = await viewer.listAliasHistory({ projectId: 'p1', modelName: 'aliased', pageSize: 2, pageToken: first.nextPageToken });
    expect(second.changes.map((c) => `${c.alias}:${c.fromVersion}->${c.toVersion}`)).toEqual(['prod:1->2', 'prod:0->1']);
    expect(second.nextPageToken).toBe('');
    expect((await viewer.listAliasHistory({ projectId: 'p1', modelName: 'aliased', alias: 'canary' })).changes).toHaveLength(1);
    expect((await failure(viewer.listAliasHistory({ projectId: 'p1', modelName: 'aliased', alias: 'canary', pageToken: first.nextPageToken })))?.code).toBe(
      status.INVALID_ARGUMENT,
    );
    expect((await failure(viewer.setAlias({ projectId: 'p1', modelName: 'aliased', alias: 'x', version: 3n })))?.code).toBe(status.PERMISSION_DENIED);
  });

  it('answers each refusal with the reason its RPC comment names, and the resource it concerns', async () => {
    await newModel('reasons');
    await newModel('reasons-2');
    await newVersion('reasons');
    await newVersion('reasons');
    const model = 'projects/p1/models/reasons';
    const notFound = { code: status.NOT_FOUND, domain: 'registry.trellis' };
    await expect(editor.createModel({ projectId: 'p1', name: 'reasons' })).rejects.toMatchObject({
      code: status.ALREADY_EXISTS,
      details: 'Registered Model (name=reasons) already exists.',
      reason: 'MODEL_NAME_TAKEN',
      resource: model,
    });
    await expect(editor.renameModel({ projectId: 'p1', modelName: 'reasons-2', newName: 'reasons' })).rejects.toMatchObject({ code: status.ALREADY_EXISTS, reason: 'MODEL_NAME_TAKEN' });
    await expect(viewer.getModel({ projectId: 'p1', modelName: 'absent' })).rejects.toMatchObject({ ...notFound, reason: 'MODEL_NOT_FOUND', resource: 'projects/p1/models/absent' });
    await expect(viewer.getVersion({ projectId: 'p1', modelName: 'reasons', version: 9n })).rejects.toMatchObject({ ...notFound, reason: 'VERSION_NOT_FOUND', resource: `${model}/versions/9` });
    await expect(editor.deleteModelTag({ projectId: 'p1', modelName: 'reasons', key: 'absent' })).rejects.toMatchObject({ ...notFound, reason: 'MODEL_TAG_NOT_FOUND', resource: model });
    await expect(editor.deleteVersionTag({ projectId: 'p1', modelName: 'reasons', version: 1n, key: 'absent' })).rejects.toMatchObject({
      ...notFound,
      reason: 'VERSION_TAG_NOT_FOUND',
      resource: `${model}/versions/1`,
    });
    await expect(viewer.getVersionByAlias({ projectId: 'p1', modelName: 'reasons', alias: 'absent' })).rejects.toMatchObject({ ...notFound, reason: 'ALIAS_NOT_FOUND', resource: `${model}/aliases/absent` });
    await expect(editor.deleteAlias({ projectId: 'p1', modelName: 'reasons', alias: 'absent' })).rejects.toMatchObject({ ...notFound, reason: 'ALIAS_NOT_FOUND' });
    await expect(viewer.listVersionFiles({ projectId: 'p1', modelName: 'reasons', version: 1n })).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
      reason: 'VERSION_IS_REFERENCE',
      resource: `${model}/versions/1`,
    });

    await editor.setAlias({ projectId: 'p1', modelName: 'reasons', alias: 'prod', version: 1n });
    await expect(editor.deleteVersion({ projectId: 'p1', modelName: 'reasons', version: 1n })).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
      reason: 'VERSION_HAS_ALIASES',
      resource: `${model}/versions/1`,
    });
    await expect(editor.deleteModel({ projectId: 'p1', modelName: 'reasons' })).rejects.toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'MODEL_HAS_ALIASES', resource: model });

    // A version still being copied, as a copy under way leaves it.
    const { id } = await service.dataSource.manager.findOneByOrFail(RegisteredModelEntity, { projectId: 'p1', name: 'reasons' });
    await service.dataSource.transaction((manager) => manager.update(ModelVersionEntity, { modelId: id, version: 2 }, { status: 'PENDING' }));
    await expect(editor.createVersion({ projectId: 'p1', modelName: 'reasons-2', source: 'models:/reasons/2' })).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
      reason: 'VERSION_NOT_READY',
      resource: `${model}/versions/2`,
    });
  });

  it('refuses alias names MLflow reserves or cannot read', async () => {
    await newModel('names');
    await newVersion('names');
    for (const alias of ['latest', 'LATEST', 'v1', 'V12', 'a b', 'a/b', 'x'.repeat(256), '']) {
      expect([alias, (await failure(editor.setAlias({ projectId: 'p1', modelName: 'names', alias, version: 1n })))?.code]).toEqual([alias, status.INVALID_ARGUMENT]);
    }
    expect((await editor.setAlias({ projectId: 'p1', modelName: 'names', alias: 'v1-candidate_2', version: 1n })).change?.toVersion).toBe(1n);
    expect((await failure(editor.setAlias({ projectId: 'p1', modelName: 'names', alias: 'ok', version: 9n })))?.code).toBe(status.NOT_FOUND);
  });

  it('refuses to move a protected alias without an approval, saying which approval to request', async () => {
    await admin.createModel({ projectId: 'p1', name: 'guard', protectedAliases: ['champion'] });
    await newVersion('guard');
    await newVersion('guard');
    await newVersion('guard');
    const error = await failure(editor.setAlias({ projectId: 'p1', modelName: 'guard', alias: 'champion', version: 3n }));
    expect(error?.code).toBe(status.FAILED_PRECONDITION);
    expect(error?.details).toBe(
      'alias champion of model guard is protected: request an approval of registry.alias.set for projects/p1/models/guard/aliases/champion with detail version=3 and pass its approval_id',
    );
    const deleting = await failure(editor.deleteAlias({ projectId: 'p1', modelName: 'guard', alias: 'champion' }));
    expect(deleting?.details).toContain('registry.alias.delete for projects/p1/models/guard/aliases/champion');
    // Other aliases of the model move freely.
    expect((await editor.setAlias({ projectId: 'p1', modelName: 'guard', alias: 'staging', version: 3n })).change?.toVersion).toBe(3n);
  });

  it('publishes version.created, alias.set and alias.deleted through the outbox', async () => {
    await newModel('evented');
    await newVersion('evented');
    await editor.setAlias({ projectId: 'p1', modelName: 'evented', alias: 'prod', version: 1n });
    await editor.deleteAlias({ projectId: 'p1', modelName: 'evented', alias: 'prod' });
    await eventually(() => {
      const created = events.filter((e) => e.subject === 'trellis.registry.v1.version.created').map((e) => fromBinary(VersionCreatedEventSchema, e.payload).version);
      expect(created).toContainEqual(expect.objectContaining({ modelName: 'evented', version: 1n, projectId: 'p1', status: ModelVersionStatus.READY }));
      const set = events.filter((e) => e.subject === 'trellis.registry.v1.alias.set').map((e) => fromBinary(AliasSetEventSchema, e.payload));
      expect(set).toContainEqual(expect.objectContaining({ modelName: 'evented', projectId: 'p1', change: expect.objectContaining({ alias: 'prod', toVersion: 1n }) }));
      const deleted = events.filter((e) => e.subject === 'trellis.registry.v1.alias.deleted').map((e) => fromBinary(AliasDeletedEventSchema, e.payload));
      expect(deleted).toContainEqual(expect.objectContaining({ modelName: 'evented', change: expect.objectContaining({ fromVersion: 1n, toVersion: 0n }) }));
    });
  });

  it('searches models and versions by name pattern and tags, page by page, in readable projects only', async () => {
    for (const [name, project] of [['search-a', 'p1'], ['search-b', 'p2'], ['search-c', 'p1'], ['search_d', 'p1'], ['Search-e', 'p1'], ['search-x', 'p3']] as const) {
      if (project === 'p3') await outsider.createModel({ projectId: 'p3', name, tags: [{ key: 'kind', value: 'tree' }] });
      else await editor.createModel({ projectId: project, name, tags: [{ key: 'kind', value: name.endsWith('c') ? 'linear' : 'tree' }] });
    }
    const names = async (client: Client, request: Parameters<Client['searchModels']>[0]) => {
      const found: string[] = [];
      let pageToken = '';
      do {
        const page = await client.searchModels({ ...request, pageSize: 2, pageToken });
        found.push(...page.models.map((model) => `${model.projectId}/${model.name}`));
        pageToken = page.nextPageToken;
      } while (pageToken);
      return found;
    };
    expect(await names(editor, { nameLike: 'search%' })).toEqual(['p1/search-a', 'p2/search-b', 'p1/search-c', 'p1/search_d']);
    expect(await names(editor, { nameLike: 'search\\_%' })).toEqual(['p1/search_d']);
    expect(await names(editor, { nameLike: 'search%', tags: [{ key: 'kind', value: 'tree' }] })).toEqual(['p1/search-a', 'p2/search-b', 'p1/search_d']);
    expect(await names(editor, { nameLike: 'search%', projectIds: ['p2'] })).toEqual(['p2/search-b']);
    expect(await names(viewer, { nameLike: '%search%' })).toEqual(['p1/search-a', 'p1/search-c', 'p1/search_d']);
    expect(await names(outsider, { nameLike: '%' })).toEqual(['p3/search-x']);
    // An org admin's token names the projects of their org; the registry knows no orgs, so it never widens a search beyond them.
    const otherOrgAdmin = await platform.client(RegistryServiceDesc, service.grpcAddress, { sub: 'root', org: 'another-org', orgAdmin: true, bindings: [] });
    expect(await names(otherOrgAdmin as Client, { nameLike: '%' })).toEqual([]);
    expect((await otherOrgAdmin.searchVersions({ nameLike: '%' })).versions).toEqual([]);

    await newVersion('search-a');
    await editor.createVersion({ projectId: 'p1', modelName: 'search-a', source: 's3://b/2', tags: [{ key: 'stage', value: 'prod' }] });
    await newVersion('search-b', 's3://b/1', 'p2');
    const versions = await editor.searchVersions({ nameLike: 'search-%', pageSize: 2 });
    expect(versions.versions.map((v) => `${v.modelName}/${v.version}`)).toEqual(['search-a/2', 'search-a/1']);
    const rest = await editor.searchVersions({ nameLike: 'search-%', pageSize: 2, pageToken: versions.nextPageToken });
    expect(rest.versions.map((v) => `${v.modelName}/${v.version}`)).toEqual(['search-b/1']);
    expect((await editor.searchVersions({ tags: [{ key: 'stage', value: 'prod' }] })).versions.map((v) => `${v.modelName}/${v.version}`)).toEqual(['search-a/2']);
    expect((await viewer.searchVersions({ nameLike: 'search-b' })).versions).toEqual([]);
  });

  it('waits for a version to settle, also when another replica settles it, and answers DEADLINE_EXCEEDED at the deadline', async () => {
    await newModel('awaited');
    await newVersion('awaited');
    const key = { projectId: 'p1', modelName: 'awaited', version: 1n };
    // A reference is READY at once: nothing to wait for.
    expect((await viewer.waitVersion(key)).version).toMatchObject({ modelName: 'awaited', version: 1n, status: ModelVersionStatus.READY });

    // As a copy that another replica runs leaves it, mid-way.
    const { id } = await service.dataSource.manager.findOneByOrFail(RegisteredModelEntity, { projectId: 'p1', name: 'awaited' });
    const setStatus = (changes: Partial<ModelVersionEntity>) => service.dataSource.transaction((manager) => manager.update(ModelVersionEntity, { modelId: id, version: 1 }, changes));
    await setStatus({ status: 'PENDING' });
    const late = await failure(viewer.waitVersion(key, { timeoutMs: 200 }));
    expect(late?.code).toBe(status.DEADLINE_EXCEEDED);
    expect((await viewer.getVersion(key)).version?.status).toBe(ModelVersionStatus.PENDING);

    const listen = jest.spyOn(service.app.get(VersionWaiters), 'listen');
    try {
      const waiting = viewer.waitVersion(key);
      await eventually(() => expect(listen).toHaveBeenCalled());
      // The other replica ends the copy: its row, then its event.
      await setStatus({ status: 'FAILED', statusMessage: 'the copy failed on another replica' });
      const settled = create(VersionSettledEventSchema, { version: { ...key, status: ModelVersionStatus.FAILED } });
      await platform.runtime.bus.publish(
        create(EventEnvelopeSchema, {
          id: randomUUID(),
          subject: 'trellis.registry.v1.version.settled',
          payloadType: VersionSettledEventSchema.typeName,
          payload: toBinary(VersionSettledEventSchema, settled),
          eventTime: timestampNow(),
          projectId: 'p1',
        }),
      );
      expect((await waiting).version).toMatchObject({ status: ModelVersionStatus.FAILED, statusMessage: 'the copy failed on another replica' });
    } finally {
      listen.mockRestore();
    }
    expect((await failure(viewer.waitVersion({ ...key, version: 2n })))?.code).toBe(status.NOT_FOUND);
  });

  it('fails versions a stopped registry left PENDING when it starts again, and says so with version.settled', async () => {
    await newModel('crashed');
    await newVersion('crashed');
    // As a crash mid-copy leaves it: PENDING, its copy under way in the instance it recorded.
    const { id } = await service.dataSource.manager.findOneByOrFail(RegisteredModelEntity, { projectId: 'p1', name: 'crashed' });
    await service.dataSource.transaction((manager) => manager.update(ModelVersionEntity, { modelId: id, version: 1 }, { status: 'PENDING', artifactStore: 'default' }));
    const store = platform.runtime.instances.get('storage', 'default')!.instance;
    const partial = `models/p1/${id}/1/model.onnx`;
    await store.put(partial, Buffer.from('half a model'));
    expect((await viewer.getVersion({ projectId: 'p1', modelName: 'crashed', version: 1n })).version?.status).toBe(ModelVersionStatus.PENDING);
    const restarted = await startService(registryService, platform.runtime);
    try {
      expect((await viewer.getVersion({ projectId: 'p1', modelName: 'crashed', version: 1n })).version).toMatchObject({
        status: ModelVersionStatus.FAILED,
        statusMessage: INTERRUPTED,
      });
      await eventually(async () => expect(await store.head(partial)).toBeUndefined());
      await eventually(() => {
        const settled = events.filter((e) => e.subject === 'trellis.registry.v1.version.settled').map((e) => fromBinary(VersionSettledEventSchema, e.payload).version);
        expect(settled).toContainEqual(expect.objectContaining({ modelName: 'crashed', version: 1n, status: ModelVersionStatus.FAILED, statusMessage: INTERRUPTED }));
      });
    } finally {
      await restarted.close();
    }
  });
});

import { status, type ServiceError } from '@grpc/grpc-js';
import type { GrpcClient } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import { definePlugin, z } from '@trellis/plugin-sdk';
import { MemoryObjectStore } from '@trellis/plugin-sdk/testing';
import { RegistryServiceDesc } from '@trellis/proto';
import { serviceDatabases } from '@trellis/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registryService } from './registry.definition';

const memoryStorage = definePlugin({
  manifest: { kind: 'storage', id: 'storage-memory', apiVersion: 'v1' },
  configSchema: z.object({}),
  create: () => new MemoryObjectStore(),
});

const failure = async (call: Promise<unknown>) => (await call.then(() => undefined, (error: unknown) => error)) as ServiceError | undefined;

describe.each(serviceDatabases('registry'))('the registry on %s refuses control characters in names and NUL in texts, naming the field', (_setup, setup) => {
  const configDir = mkdtempSync(join(tmpdir(), 'trellis-registry-names-'));
  let cleanup: () => Promise<void>;
  let platform: TestPlatform;
  let registry: GrpcClient<(typeof RegistryServiceDesc)['method']>;

  beforeAll(async () => {
    const { env, cleanup: drop } = await setup();
    cleanup = drop;
    writeFileSync(join(configDir, 'trellis.yaml'), 'storage:\n  default:\n    plugin: storage-memory\n');
    platform = await TestPlatform.start({ TRELLIS_REGISTRY_PORT: '0', TRELLIS_CONFIG: join(configDir, 'trellis.yaml'), ...env }, { plugins: [memoryStorage] });
    const service = await platform.startService(registryService);
    registry = await platform.client(RegistryServiceDesc, service.grpcAddress, { sub: 'erin', bindings: [{ project: 'p1', role: 'editor' }] });
    await registry.createModel({ projectId: 'p1', name: 'churn' });
    await registry.createVersion({ projectId: 'p1', modelName: 'churn', source: 's3://bucket/model.onnx' });
    await registry.createModel({ projectId: 'p1', name: 'other' });
  });

  afterAll(async () => {
    await platform?.stop();
    await cleanup?.();
    rmSync(configDir, { recursive: true, force: true });
  });

  const model = { projectId: 'p1', modelName: 'churn' };

  it.each<[string, () => Promise<unknown>, string]>([
    ['a model name with a NUL', () => registry.createModel({ projectId: 'p1', name: 'a\0b' }), 'name'],
    ['a model name with a line break', () => registry.createModel({ projectId: 'p1', name: 'two\nlines' }), 'name'],
    ['a new model name with an escape', () => registry.renameModel({ projectId: 'p1', modelName: 'other', newName: 'red\u001b[31m' }), 'new_name'],
    ['a model looked up by a name with a NUL', () => registry.getModel({ projectId: 'p1', modelName: 'churn\0' }), 'model_name'],
    ['a model description with a NUL', () => registry.createModel({ projectId: 'p1', name: 'described', description: 'a\0' }), 'description'],
    ['a model tag key with a tab', () => registry.setModelTag({ ...model, tag: { key: 'k\t', value: 'v' } }), 'tag.key'],
    ['a model tag value with a NUL', () => registry.setModelTag({ ...model, tag: { key: 'k', value: 'v\0' } }), 'tag.value'],
    ['a version description with a NUL', () => registry.updateVersion({ version: { ...model, version: 1n, description: '\0' }, updateMask: { paths: ['description'] } }), 'version.description'],
    ['a version source with a NUL', () => registry.createVersion({ ...model, source: 's3://bucket/a\0b' }), 'source'],
    ['a version run link with a NUL', () => registry.createVersion({ ...model, source: 's3://bucket/m', runLink: 'http://x/\0' }), 'run_link'],
    ['a version tag value with a NUL', () => registry.setVersionTag({ ...model, version: 1n, tag: { key: 'k', value: '\0' } }), 'tag.value'],
    ['an alias with a NUL', () => registry.setAlias({ ...model, alias: 'prod\0', version: 1n }), 'alias'],
    ['a name pattern with a NUL', () => registry.searchModels({ projectIds: ['p1'], nameLike: 'ch%\0' }), 'name_like'],
  ])('refuses %s with INVALID_ARGUMENT naming the field', async (_what, call, field) => {
    const error = await failure(call());
    expect([error?.code, error?.details]).toEqual([status.INVALID_ARGUMENT, expect.stringMatching(new RegExp(`^${field.replace(/[[\].]/g, '\\$&')}: `))]);
  });

  it('stores line breaks and tabs in descriptions and tag values as given', async () => {
    const text = 'first line\nsecond\tcolumn';
    await registry.setModelTag({ ...model, tag: { key: 'note', value: text } });
    await registry.updateVersion({ version: { ...model, version: 1n, description: text }, updateMask: { paths: ['description'] } });
    expect((await registry.getModel(model)).model?.tags).toContainEqual(expect.objectContaining({ key: 'note', value: text }));
    expect((await registry.getVersion({ ...model, version: 1n })).version?.description).toBe(text);
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestContext, describeStorageConformance } from '@trellis/plugin-sdk/testing';
import storageFs from './index';

let base: string;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'storage-fs-conformance-'));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describeStorageConformance('storage-fs', async () => storageFs.create(createTestContext({ dataDir: base }), { root: await mkdtemp(join(base, 'root-')) }));

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPluginInstance, createTestContext, describeKmsConformance } from '@trellis/plugin-sdk/testing';
import kmsLocal from './index';

let dir: string;
let masterKeyFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kms-local-conformance-'));
  masterKeyFile = join(dir, 'master.key');
  await writeFile(masterKeyFile, randomBytes(32), { mode: 0o600 });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describeKmsConformance('kms-local', () => createPluginInstance(kmsLocal, { masterKeyFile }, createTestContext({ dataDir: dir })));

import { transformFile } from '@swc/core';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import type { LinearModelFile } from '../src/testing/memory-model-runtime';

const SDK_SOURCES = resolve(__dirname, '../src');

/** The linear-json model of the memory runtime's specs: scores = (f0 + 2 f2 + 0.5, -f1 + 0.5 f2). */
export const LINEAR_MODEL: LinearModelFile = { input: 'features', output: 'scores', weights: [[1, 0, 2], [0, -1, 0.5]], bias: [0.5, 0] };

/** Where the memory runtime's spec fixture lies; filled in by the suite's `beforeAll`. */
export interface MemoryRuntimeFixture {
  /** The temporary directory, removed after the suite. */
  dir: string;
  /** `LINEAR_MODEL` as `model.json`. */
  modelPath: string;
  /** The memory runtime's built plugin module, for `loadPluginInWorker`. */
  pluginModule: string;
}

/**
 * Registers (with jest's `beforeAll`/`afterAll`) a fresh temporary directory holding
 * `LINEAR_MODEL` and the SDK built under `sdk/`, removed after the suite.
 */
export function memoryRuntimeFixture(prefix: string): MemoryRuntimeFixture {
  const fixture: MemoryRuntimeFixture = { dir: '', modelPath: '', pluginModule: '' };
  beforeAll(async () => {
    fixture.dir = await mkdtemp(join(tmpdir(), prefix));
    fixture.modelPath = join(fixture.dir, 'model.json');
    await writeFile(fixture.modelPath, JSON.stringify(LINEAR_MODEL));
    await buildSdk(join(fixture.dir, 'sdk'));
    fixture.pluginModule = join(fixture.dir, 'sdk', 'testing', 'memory-runtime.plugin.js');
  });
  afterAll(async () => {
    await rm(fixture.dir, { recursive: true, force: true });
  });
  return fixture;
}

/**
 * The SDK's sources built to CommonJS in `out` (a worker runs JavaScript only), beside a link to
 * the workspace's node_modules so that zod resolves: what a plugin package's build gives.
 */
async function buildSdk(out: string): Promise<void> {
  const entries = await readdir(SDK_SOURCES, { recursive: true, withFileTypes: true });
  const sources = entries.filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts')).map((e) => join(e.parentPath, e.name));
  for (const source of sources) {
    const { code } = await transformFile(source, { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' }, swcrc: false });
    const target = join(out, relative(SDK_SOURCES, source)).replace(/\.ts$/, '.js');
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, code);
  }
  await symlink(resolve(__dirname, '../../../node_modules'), join(out, 'node_modules'), 'dir');
}

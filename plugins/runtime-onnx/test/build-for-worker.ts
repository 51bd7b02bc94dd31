import { transformFile } from '@swc/core';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

const WORKSPACE = join(__dirname, '..', '..', '..');

/** The SDK's sources, where tsconfig.base.json maps the package (as tsc and jest find it). */
function sdkSources(): string {
  const { compilerOptions } = JSON.parse(readFileSync(join(WORKSPACE, 'tsconfig.base.json'), 'utf8')) as { compilerOptions: { paths: Record<string, string[]> } };
  return dirname(join(WORKSPACE, compilerOptions.paths['@trellis/plugin-sdk'][0]));
}

/**
 * The plugin as serving loads it in a worker thread, built under `out`: the sources in `sources`
 * compiled to CommonJS (a worker runs JavaScript only) beside a node_modules with the SDK, compiled
 * from this workspace's sources, zod and onnxruntime-node. Returns the path of the plugin's built index.js.
 */
export async function buildForWorker(sources: string, out: string): Promise<string> {
  const sdk = join(out, 'node_modules', '@trellis', 'plugin-sdk');
  await compile(sdkSources(), sdk, (file) => !file.startsWith('testing'));
  await writeFile(join(sdk, 'package.json'), JSON.stringify({ name: '@trellis/plugin-sdk', main: 'index.js' }));
  for (const dependency of ['zod', 'onnxruntime-node']) await symlink(dirname(require.resolve(`${dependency}/package.json`)), join(out, 'node_modules', dependency), 'dir');
  await compile(sources, join(out, 'plugin'));
  return join(out, 'plugin', 'index.js');
}

/** Compiles each TypeScript file under `from` (specs left out, and files `keep` refuses) to the same place under `to`. */
async function compile(from: string, to: string, keep: (file: string) => boolean = () => true): Promise<void> {
  const files = (await readdir(from, { recursive: true })).filter((file) => file.endsWith('.ts') && !file.endsWith('.spec.ts') && keep(file));
  for (const file of files) {
    const { code } = await transformFile(join(from, file), { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' }, swcrc: false });
    await mkdir(dirname(join(to, file)), { recursive: true });
    await writeFile(join(to, file.replace(/\.ts$/, '.js')), code);
  }
}

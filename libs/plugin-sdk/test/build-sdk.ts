import { transformFile } from '@swc/core';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';

const SDK_SOURCES = resolve(__dirname, '../src');

/**
 * The SDK's sources built to CommonJS in `out` (a worker runs JavaScript only), beside a link to
 * the workspace's node_modules so that zod resolves: what a plugin package's build gives. The
 * memory runtime's plugin module is then `out/testing/memory-runtime.plugin.js`.
 */
export async function buildSdk(out: string): Promise<void> {
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

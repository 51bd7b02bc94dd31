// Compiles every project's src/ to its dist/ with swc (type-checking is `tsc --noEmit` in npm test).
// Each workspace package's "main" points at dist/, so @trellis/* resolve through node_modules at run time.
import { transformFile } from '@swc/core';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const swcrc = JSON.parse(readFileSync('.swcrc', 'utf8'));
delete swcrc.$schema;

function* sources(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') && !entry.name.endsWith('.d.ts')) yield path;
  }
}

/** Projects built by their own bundler instead of swc: the web UI (Vite), into its dist/. */
const BUNDLED = { 'apps/web': buildWebUi };

async function buildWebUi(root) {
  const { build: bundle } = await import('vite');
  await bundle({ configFile: join(root, 'vite.config.mjs'), logLevel: 'warn' });
}

export async function build() {
  const started = Date.now();
  let files = 0;
  for (const group of ['libs', 'plugins', 'apps']) {
    for (const project of readdirSync(group, { withFileTypes: true }).filter((e) => e.isDirectory())) {
      const root = join(group, project.name);
      if (BUNDLED[root]) {
        await BUNDLED[root](root);
        continue;
      }
      const src = join(root, 'src');
      const dist = join(root, 'dist');
      rmSync(dist, { recursive: true, force: true });
      let entries;
      try {
        entries = [...sources(src)];
      } catch {
        continue;
      }
      await Promise.all(
        entries.map(async (file) => {
          const out = join(dist, relative(src, file)).replace(/\.ts$/, '.js');
          const { code, map } = await transformFile(file, { ...swcrc, swcrc: false, sourceMaps: true, outputPath: out });
          mkdirSync(dirname(out), { recursive: true });
          writeFileSync(out, `${code}\n//# sourceMappingURL=${out.split('/').pop()}.map\n`);
          if (map) writeFileSync(`${out}.map`, map);
        }),
      );
      files += entries.length;
    }
  }
  console.log(`[trellis] built ${files} files in ${Date.now() - started} ms`);
}

if (import.meta.url === `file://${process.argv[1]}`) await build();

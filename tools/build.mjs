// Compiles every project's src/ to its dist/ with swc (type-checking is `tsc --noEmit` in npm test),
// and bundles the web UI with Vite. Each workspace package's "main" points at dist/, so @trellis/*
// resolve through node_modules at run time. `node tools/build.mjs apps/web apps/cli` builds only
// the projects named.
//
// Files are written over the old ones and stale ones removed afterwards, never by emptying dist/
// first: a process started from this checkout meanwhile (a spec's platform) never finds its
// modules gone, and a page of the UI loaded before a rebuild still finds its hashed assets.
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

function* files(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

/** Projects built by their own bundler instead of swc: the web UI (Vite), into its dist/. */
const BUNDLED = { 'apps/web': buildWebUi };

async function buildWebUi(root) {
  const { build: bundle } = await import('vite');
  await bundle({ configFile: join(root, 'vite.config.mjs'), logLevel: 'warn' });
}

/** Compiles one project's src/ into dist/ and removes what no source makes any more; returns how many files it compiled. */
async function compile(root) {
  const src = join(root, 'src');
  const dist = join(root, 'dist');
  let entries;
  try {
    entries = [...sources(src)];
  } catch {
    return 0;
  }
  const written = new Set();
  await Promise.all(
    entries.map(async (file) => {
      const out = join(dist, relative(src, file)).replace(/\.ts$/, '.js');
      const { code, map } = await transformFile(file, { ...swcrc, swcrc: false, sourceMaps: true, outputPath: out });
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, `${code}\n//# sourceMappingURL=${out.split('/').pop()}.map\n`);
      written.add(out);
      if (map) {
        writeFileSync(`${out}.map`, map);
        written.add(`${out}.map`);
      }
    }),
  );
  for (const stale of [...files(dist)].filter((file) => !written.has(file))) rmSync(stale);
  return entries.length;
}

export async function build(only = []) {
  const started = Date.now();
  let compiled = 0;
  for (const group of ['libs', 'plugins', 'apps']) {
    for (const project of readdirSync(group, { withFileTypes: true }).filter((e) => e.isDirectory())) {
      const root = join(group, project.name);
      if (only.length > 0 && !only.includes(root)) continue;
      if (BUNDLED[root]) await BUNDLED[root](root);
      else compiled += await compile(root);
    }
  }
  console.log(`[trellis] built ${compiled} files in ${Date.now() - started} ms`);
}

if (import.meta.url === `file://${process.argv[1]}`) await build(process.argv.slice(2).map((path) => path.replace(/\/+$/, '')));

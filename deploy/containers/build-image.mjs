// Builds one program's image with podman from deploy/containers/Containerfile: builds the checkout
// (unless TRELLIS_PREBUILT=1), writes the program's build context (service-context.mjs) to a
// temporary directory, runs `podman build` on it and prints the image's size.
//
//   node deploy/containers/build-image.mjs <program> [--base <image>] [--tag <name>] [-- <podman build flags>]
//
// --base: the Debian bookworm image to build on (default: the Containerfile's, debian:bookworm-slim;
// without a registry, localhost/trellis-base:bookworm from ensure-podman.sh); --tag: default
// trellis-<program>:<version of package.json>. Flags after `--` go to podman build as they are
// (`--isolation chroot` where RUN cannot start a container: deploy/README.md).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CONTAINERFILE } from './build-layout.mjs';
import { PROGRAMS, ROOT, buildArgs, buildCheckout, writeServiceContext } from './service-context.mjs';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { base: { type: 'string' }, tag: { type: 'string' } } });
const [program, ...podmanFlags] = positionals;
if (!PROGRAMS.includes(program)) {
  console.error(`usage: node deploy/containers/build-image.mjs <program> [--base <image>] [--tag <name>] [-- <podman build flags>]; <program> is one of ${PROGRAMS.join(', ')}`);
  process.exit(2);
}
const tag = values.tag ?? `trellis-${program}:${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version}`;

await buildCheckout();
const context = mkdtempSync(join(tmpdir(), `trellis-${program}-context-`));
try {
  writeServiceContext(program, context);
  const args = { ...buildArgs(program), ...(values.base ? { BASE: values.base } : {}) };
  const build = spawnSync(
    'podman',
    ['build', '--format', 'docker', '-f', CONTAINERFILE, ...Object.entries(args).flatMap(([name, value]) => ['--build-arg', `${name}=${value}`]), '-t', tag, ...podmanFlags, context],
    { stdio: 'inherit' },
  );
  if (build.status !== 0) process.exit(build.status ?? 1);
} finally {
  rmSync(context, { recursive: true, force: true });
}
const size = spawnSync('podman', ['image', 'inspect', '--format', '{{.Size}}', tag], { encoding: 'utf8' }).stdout.trim();
console.log(`[trellis] built ${tag} (${(Number(size) / 1e6).toFixed(0)} MB)`);

// Builds a program's image as a directory instead of an image: it writes the program's build
// context (service-context.mjs), then carries out deploy/containers/Containerfile's instructions
// into <root>, so the Containerfile stays the one description of the image. Where podman cannot
// build or run images, the directory runs the program as the image would:
// `cd <root><WORKDIR> && env <ENV> <root>/usr/local/bin/node .`.
//
// COPY lands under <root>; WORKDIR is made there; ARG and ENV are substituted as a builder does;
// FROM, RUN and USER change the image's system (its base, its users), not the program's files, so
// they are recorded and not carried out: the directory runs on this host as whoever starts it.
// The image's settings go to <root>/image-config.json: { base, workdir, env, user, exposed,
// healthcheck, entrypoint, cmd, labels, notCarriedOut }.
//
//   node deploy/containers/build-layout.mjs <program> <root>
import { cpSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { PROGRAMS, ROOT, buildArgs, buildCheckout, writeServiceContext } from './service-context.mjs';

export const CONTAINERFILE = join(ROOT, 'deploy', 'containers', 'Containerfile');

/** The Containerfile's instructions: [keyword, rest] with continuation lines joined and comments left out. */
export function instructions(text) {
  const joined = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [, keyword, rest] = /^(\S+)\s*(.*)$/.exec(line);
      return [keyword.toUpperCase(), rest];
    });
}

/** `$NAME` and `${NAME}` replaced by their values, as a builder does in FROM, COPY, ENV, WORKDIR, EXPOSE, LABEL, USER. */
function substitute(text, values) {
  return text.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, braced, bare) => values[braced ?? bare] ?? '');
}

/** `a=1 b="two words"` as { a: '1', b: 'two words' } (ENV, LABEL). */
function pairs(text) {
  const out = {};
  for (const [, key, quoted, plain] of text.matchAll(/(\S+?)=(?:"((?:[^"\\]|\\.)*)"|(\S*))/g)) out[key] = quoted?.replace(/\\(.)/g, '$1') ?? plain;
  return out;
}

/**
 * Carries out the Containerfile for `args` (SERVICE, PORTS, ...) with `context` as the build
 * context, into `root`; `move`: COPY moves the files instead (a context made for this build alone,
 * on the same filesystem), which halves the time.
 */
export function carryOut(text, { context, root, args, move = false }) {
  const values = {};
  const config = { base: undefined, workdir: '/', env: {}, user: undefined, exposed: [], healthcheck: undefined, entrypoint: undefined, cmd: undefined, labels: {}, notCarriedOut: [] };
  const inImage = (path) => join(root, path.startsWith('/') ? path : join(config.workdir, path));
  for (const [keyword, rest] of instructions(text)) {
    const expanded = substitute(rest, values);
    switch (keyword) {
      case 'ARG': {
        const [name, fallback] = rest.split('=');
        values[name] = args[name] ?? (fallback === undefined ? undefined : substitute(fallback, values));
        break;
      }
      case 'FROM':
        config.base = expanded;
        config.notCarriedOut.push(`FROM ${expanded}`);
        break;
      case 'RUN':
      case 'USER':
        if (keyword === 'USER') config.user = expanded;
        config.notCarriedOut.push(`${keyword} ${rest}`);
        break;
      case 'WORKDIR':
        config.workdir = expanded;
        mkdirSync(inImage('.'), { recursive: true });
        break;
      case 'COPY': {
        const [source, destination] = expanded.split(/\s+/);
        const from = join(context, source);
        // A folder's contents go into the destination; a file goes to it, or into it when it ends with '/'.
        const into = inImage(destination.endsWith('/') && !statSync(from).isDirectory() ? join(destination, basename(from)) : destination);
        mkdirSync(dirname(into), { recursive: true });
        if (move) renameSync(from, into);
        else cpSync(from, into, { recursive: true });
        break;
      }
      case 'ENV':
        Object.assign(config.env, pairs(expanded));
        Object.assign(values, config.env);
        break;
      case 'LABEL':
        Object.assign(config.labels, pairs(expanded));
        break;
      case 'EXPOSE':
        config.exposed = expanded.split(/\s+/).map(Number);
        break;
      case 'HEALTHCHECK':
        config.healthcheck = JSON.parse(rest.slice(rest.indexOf('CMD') + 3));
        break;
      case 'ENTRYPOINT':
      case 'CMD':
        config[keyword.toLowerCase()] = JSON.parse(rest);
        break;
      default:
        throw new Error(`build-layout.mjs does not carry out ${keyword}; the Containerfile must keep to what it understands`);
    }
  }
  writeFileSync(join(root, 'image-config.json'), `${JSON.stringify(config, null, 2)}\n`);
  return config;
}

/** `program`'s image as the directory `root` (emptied first); returns the image's settings. */
export function buildLayout(program, root) {
  rmSync(root, { recursive: true, force: true });
  const context = join(root, '.context');
  try {
    writeServiceContext(program, context);
    return carryOut(readFileSync(CONTAINERFILE, 'utf8'), { context, root, args: buildArgs(program), move: true });
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [program, root] = process.argv.slice(2);
  if (!PROGRAMS.includes(program) || !root) {
    console.error(`usage: node deploy/containers/build-layout.mjs <program> <root>; <program> is one of ${PROGRAMS.join(', ')}`);
    process.exit(2);
  }
  await buildCheckout();
  const config = buildLayout(program, resolve(root));
  console.log(`[trellis] ${program}'s image as a directory: ${resolve(root)} (its settings: image-config.json; not carried out: ${config.notCarriedOut.join('; ')})`);
}

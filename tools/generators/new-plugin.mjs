// `npm run new:plugin <kind> <name>`: adds plugins/<kind>-<name>, the npm package
// @trellis/plugin-<kind>-<name>, with the kind's conformance suite from @trellis/plugin-sdk/testing
// wired into its spec and a small working implementation that passes it, for every kind (the
// templates under templates/plugin/<kind>, over templates/plugin/common). See "Adding a service or
// a plugin" in docs/architecture.md.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pascal } from './names.mjs';
import { refuseExisting, render, writeFiles } from './templates.mjs';
import { linkWorkspace, lockedWorkspaces, planEdits, tsconfigPath, writeEdits } from './workspace.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');

/** What the part after the kind may be: lowercase letters, digits and single dashes, as plugin ids are. */
const PLUGIN_NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
/** The longest plugin id the SDK accepts (PLUGIN_ID_PATTERN). */
const MAX_ID_LENGTH = 64;

/** The plugin kinds the SDK declares (PLUGIN_KINDS in libs/plugin-sdk/src/kinds.ts). */
function pluginKinds(root) {
  const source = readFileSync(join(root, 'libs/plugin-sdk/src/kinds.ts'), 'utf8');
  const declared = /PLUGIN_KINDS = \[([^\]]*)\]/.exec(source);
  if (!declared) throw new Error('libs/plugin-sdk/src/kinds.ts no longer declares PLUGIN_KINDS = [...]; update tools/generators/new-plugin.mjs');
  return [...declared[1].matchAll(/'([a-z]+)'/g)].map((match) => match[1]);
}

/** The files every plugin has whatever its kind (package, project, jest and eslint configs, index). */
const COMMON = 'common';

/** The kinds this generator makes a plugin of: those with a template, a plugin that passes the kind's conformance suite. */
function generatableKinds(root) {
  return pluginKinds(root).filter((kind) => existsSync(join(HERE, 'templates', 'plugin', kind)));
}

/** Throws an Error saying why `kind` and `name` cannot make a plugin here, and what would. */
function checkPluginNames(root, kind, name) {
  const kinds = pluginKinds(root);
  const generatable = generatableKinds(root);
  if (!kind || !name) throw new Error(`name the kind and the plugin: npm run new:plugin <kind> <name>, e.g. npm run new:plugin storage nfs (kinds it makes: ${generatable.join(', ')})`);
  if (!kinds.includes(kind)) throw new Error(`"${kind}" is not a plugin kind; the kinds are ${kinds.join(', ')}`);
  if (!generatable.includes(kind)) throw new Error(`there is no template for ${kind} plugins yet: add tools/generators/templates/plugin/${kind}, a minimal plugin that passes describe${pascal(kind)}Conformance`);
  if (!PLUGIN_NAME.test(name)) throw new Error(`"${name}" is not a plugin name: use lowercase letters, digits and single dashes, starting with a letter (the plugin's id is ${kind}-<name>)`);
  if (`${kind}-${name}`.length > MAX_ID_LENGTH) throw new Error(`the plugin id "${kind}-${name}" is longer than ${MAX_ID_LENGTH} characters`);
}

/** The common files and the kind's, rendered; a file of the kind's replaces the common one at the same path. */
function renderPlugin(kind, values) {
  const files = new Map();
  for (const dir of [COMMON, kind]) for (const file of render(join(HERE, 'templates', 'plugin', dir), values)) files.set(file.path, file);
  return [...files.values()];
}

/** Checks everything, then writes the plugin and its registrations. Returns the paths it made. */
export function newPlugin(root, kind, name) {
  checkPluginNames(root, kind, name);
  const id = `${kind}-${name}`;
  if (existsSync(join(root, 'plugins', id))) throw new Error(`plugins/${id} exists already; choose another name`);
  const camelId = id.replace(/-([a-z0-9])/g, (_, next) => next.toUpperCase());
  const files = renderPlugin(kind, { kind, name, id, camelId });
  refuseExisting(root, files.map(({ path }) => path));
  const edits = planEdits(root, [
    tsconfigPath(`@trellis/plugin-${id}`, `plugins/${id}/src/index.ts`),
    lockedWorkspaces([{ dir: `plugins/${id}`, name: `@trellis/plugin-${id}`, dependencies: { '@trellis/plugin-sdk': '*' } }]),
  ]);
  writeFiles(root, files);
  writeEdits(root, edits);
  linkWorkspace(root, `@trellis/plugin-${id}`, `plugins/${id}`);
  return { id, created: files.map(({ path }) => path), edited: edits.map(({ path }) => path) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [kind, name, ...rest] = process.argv.slice(2);
  try {
    if (rest.length > 0) throw new Error(`unexpected argument "${rest[0]}": the command is npm run new:plugin <kind> <name>`);
    const made = newPlugin(ROOT, kind, name);
    console.log(`\nnew:plugin made ${made.id} (@trellis/plugin-${made.id}):`);
    for (const path of made.created) console.log(`  created ${path}`);
    for (const path of made.edited) console.log(`  edited  ${path}`);
    console.log(`\nNext: make it talk to your backend, keeping its spec green:\n  npx jest -c plugins/${made.id}/jest.config.js`);
    console.log(`A Trellis process loads it once it is installed and named in trellis.yaml (plugin: ${made.id}).`);
  } catch (error) {
    console.error(`new:plugin: ${error.message}`);
    process.exit(1);
  }
}

// `npm run new:service <name> [-- --resource <noun> [--plural <nouns>]]`: adds a service in the
// repository's shape, with one resource (default `item`; its plural by the regular rules unless
// --plural gives it) that clients create, get, list, update and delete. See
// "Adding a service or a plugin" in docs/architecture.md for what it makes.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkResourceName, checkServiceName, plural, serviceSpellings } from './names.mjs';
import { refuseExisting, render, writeFiles } from './templates.mjs';
import { addImport, addImportedName, highestServicePort, insertAt, linkWorkspace, lockedWorkspaces, planEdits, replaceMatch, tsconfigPath, writeEdits } from './workspace.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');

/** The edits that register service `s` (its spellings) where the repository lists services. */
function registrations(s) {
  return [
    tsconfigPath(`@trellis/${s.name}`, `libs/${s.name}/src/index.ts`),
    lockedWorkspaces([
      { dir: `apps/${s.name}`, name: `@trellis/${s.name}-app` },
      { dir: `libs/${s.name}`, name: `@trellis/${s.name}` },
    ]),
    {
      path: 'libs/proto/src/index.ts',
      edit: (text, file) =>
        insertAt(text, "export * from './service-descriptors';", ['resources', `${s.name}_service`, 'events'].map((proto) => `export * from './gen/trellis/${s.name}/v1/${proto}_pb';\n`).join(''), file),
    },
    {
      path: 'libs/proto/src/service-descriptors.ts',
      edit: (text) => `${text}export { ${s.Name}Service as ${s.Name}ServiceDesc } from './gen/trellis/${s.name}/v1/${s.name}_service_pb';\n`,
    },
    // The lists of every service definition: the standalone process's, and the Kubernetes manifests'.
    ...['apps/standalone/src/services.ts', 'tools/deploy/kubernetes/programs.ts'].map((path) => ({
      path,
      edit: (text, file) => {
        const imported = addImport(text, `import { ${s.name}Service } from '@trellis/${s.name}';`, `@trellis/${s.name}`, file);
        return replaceMatch(imported, /(export const SERVICES: readonly ServiceDefinition\[\] = \[)([^\]]*)\]/, (match) => `${match[1]}${match[2]}, ${s.name}Service]`, file);
      },
    })),
    {
      // Its Deployment's replicas and resources; the manifests are generated from these values.
      path: 'deploy/kubernetes/values.yaml',
      edit: (text, file) => insertAt(text, '  gateway: {', `  ${s.name}: { replicas: 2, cpu: 250m, memory: 384Mi, memoryLimit: 1Gi }\n`, file),
    },
    {
      path: 'libs/gateway/src/upstreams/exposed-services.ts',
      edit: (text, file) => {
        const imported = addImportedName(text, `${s.Name}ServiceDesc`, '@trellis/proto', file);
        return replaceMatch(imported, /(EXPOSED_SERVICES[^=]*= \{\n[\s\S]*?)(\n\};)/, (match) => `${match[1]}\n  ${s.name}: [${s.Name}ServiceDesc],${match[2]}`, file);
      },
    },
    {
      path: 'README.md',
      // The docs spec looks for every service in the README's first paragraph.
      edit: (text, file) => replaceMatch(text, /^(# [^\n]*\n\n[\s\S]*?)(\n\n)/, (match) => `${match[1]}\nThe ${s.name} service keeps the ${s.resources} of each project.${match[2]}`, file),
    },
    {
      path: 'docs/architecture.md',
      edit: (text, file) =>
        insertAt(text, '| gateway (', `| ${s.name} (:${s.port}) | ${s.resources} | \`${s.Name}Service\` | \`${s.resource}.created\`, \`${s.resource}.deleted\` |\n`, file),
    },
    {
      path: 'tools/start-distributed.mjs',
      edit: (text, file) => {
        const program = `  { name: '${s.name}', env: (up) => ({ TRELLIS_AUTH_JWKS_URL: jwksUrl(up) }) },\n`;
        const started = insertAt(text, "  {\n    name: 'gateway',", program, file);
        return replaceMatch(started, /(\n(\s*)TRELLIS_GATEWAY_UPSTREAM_REGISTRY: [^\n]*)/, (match) => `${match[1]}\n${match[2]}TRELLIS_GATEWAY_UPSTREAM_${s.NAME}: up.${s.name}.grpc,`, file);
      },
    },
  ];
}

/** Checks everything, then writes the service and its registrations, then regenerates code and docs. Returns the paths it made. */
export function newService(root, name, { resource = 'item', resources = plural(resource), migration = Date.now() } = {}) {
  checkServiceName(name);
  checkResourceName(resource, name, resources);
  for (const dir of [`libs/${name}`, `apps/${name}`, `proto/trellis/${name}`]) {
    if (existsSync(join(root, dir))) throw new Error(`a service named "${name}" exists already (${dir}); choose another name`);
  }
  const spellings = serviceSpellings({ name, resource, resources, port: highestServicePort(root) + 1, migration });
  const files = render(join(HERE, 'templates', 'service'), spellings);
  refuseExisting(root, files.map(({ path }) => path));
  const edits = planEdits(root, registrations(spellings));
  writeFiles(root, files);
  writeEdits(root, edits);
  linkWorkspace(root, `@trellis/${name}`, `libs/${name}`);
  linkWorkspace(root, `@trellis/${name}-app`, `apps/${name}`);
  for (const command of ['node tools/generate.mjs', 'node tools/config-docs.mjs']) {
    try {
      execSync(command, { cwd: root, stdio: 'inherit' });
    } catch {
      throw new Error(`the service's files and registrations are written, but \`${command}\` failed (above): fix that and run it again`);
    }
  }
  return { port: Number(spellings.port), created: files.map(({ path }) => path), edited: edits.map(({ path }) => path) };
}

/** The options after the name (`--resource <noun>`, `--plural <nouns>`); anything else is refused, so no option is silently lost. */
function optionsOf(args) {
  const options = {};
  for (let at = 0; at < args.length; at += 2) {
    const name = args[at].replace(/^--/, '');
    if (!args[at].startsWith('--') || !['resource', 'plural'].includes(name)) {
      throw new Error(`unexpected argument "${args[at]}": the options are --resource <noun> and --plural <nouns>, after --: npm run new:service data -- --resource dataset`);
    }
    if (!args[at + 1] || args[at + 1].startsWith('--')) throw new Error(`--${name} needs a value: --${name} ${name === 'plural' ? 'datasets' : 'dataset'}`);
    options[name] = args[at + 1];
  }
  return options;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [name, ...rest] = process.argv.slice(2);
  try {
    const { resource = 'item', plural: resources = plural(resource) } = optionsOf(rest);
    const made = newService(ROOT, name, { resource, resources });
    console.log(`\nnew:service made ${name} (gRPC port ${made.port}):`);
    for (const path of made.created) console.log(`  created ${path}`);
    for (const path of made.edited) console.log(`  edited  ${path}`);
    console.log('  regenerated libs/proto (tools/generate.mjs) and docs/configuration.md (tools/config-docs.mjs)');
    console.log(`\nNext: describe the service in README.md and docs/architecture.md, then run its spec:\n  npx jest -c libs/${name}/jest.config.js`);
  } catch (error) {
    console.error(`new:service: ${error.message}`);
    process.exit(1);
  }
}

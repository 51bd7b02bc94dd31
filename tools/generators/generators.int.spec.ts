import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PLUGIN_KINDS } from '@trellis/plugin-sdk';

const ROOT = join(__dirname, '..', '..');

/** The default ports of the repository's services, from their definitions. */
function servicePortsIn(root: string): number[] {
  return readdirSync(join(root, 'libs'))
    .map((lib) => join(root, 'libs', lib, 'src', `${lib}.definition.ts`))
    .filter((file) => existsSync(file))
    .flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/defaultPort: (\d+)/g)].map((match) => Number(match[1])));
}

const SERVICE = 'inventory';
const RESOURCE = 'batch';
/** One plugin of every kind the SDK declares: `storage-scratch`, `compute-scratch`, ... */
const PLUGINS = PLUGIN_KINDS.map((kind) => ({ kind, id: `${kind}-scratch` }));

/** Type-check, lint and the generated specs each take minutes on a busy machine. */
const STEP_TIMEOUT = 10 * 60_000;

/**
 * A copy of the working tree (tracked files and new ones git does not ignore) in a temporary
 * folder. Its node_modules links every installed package of this repository's except the
 * workspace links (@trellis/*) and caches, which are the copy's own, so that nothing run in the
 * copy resolves to, or writes into, this repository's sources; a workspace's own node_modules is
 * linked whole.
 */
function copyOfRepository(): string {
  const copy = mkdtempSync(join(tmpdir(), 'trellis-generators-'));
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' }).split('\0');
  for (const file of files.filter((path) => path && existsSync(join(ROOT, path)))) {
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    cpSync(join(ROOT, file), join(copy, file), { verbatimSymlinks: true });
  }
  mkdirSync(join(copy, 'node_modules', '@trellis'), { recursive: true });
  for (const entry of readdirSync(join(ROOT, 'node_modules'))) {
    if (entry !== '@trellis' && entry !== '.cache') symlinkSync(join(ROOT, 'node_modules', entry), join(copy, 'node_modules', entry));
  }
  // A workspace's own node_modules holds the versions it needs beside other ones at the root (the CLI's commander).
  for (const workspace of ['apps', 'libs', 'plugins'].flatMap((group) => readdirSync(join(ROOT, group)).map((name) => join(group, name)))) {
    if (existsSync(join(ROOT, workspace, 'node_modules')) && existsSync(join(copy, workspace))) symlinkSync(join(ROOT, workspace, 'node_modules'), join(copy, workspace, 'node_modules'));
  }
  const { packages } = JSON.parse(readFileSync(join(copy, 'package-lock.json'), 'utf8')) as { packages: Record<string, { resolved?: string; link?: boolean }> };
  for (const [path, entry] of Object.entries(packages)) {
    if (path.startsWith('node_modules/@trellis/') && entry.link && entry.resolved) symlinkSync(join('..', '..', entry.resolved), join(copy, path));
  }
  return copy;
}

/** Runs a command in the copy; its exit status and what it printed, for an assertion to show. */
function run(copy: string, command: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync(command, args, {
    cwd: copy,
    encoding: 'utf8',
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', FORCE_COLOR: '0' },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}`.slice(-20_000) };
}

/** `{ status: 0 }` when the command succeeded, else its status and output, so a failure shows why. */
function succeeded({ status, output }: { status: number | null; output: string }): { status: number | null; output?: string } {
  return status === 0 ? { status } : { status, output };
}

/**
 * `npm run new:service` and `npm run new:plugin` as a platform team runs them, in a temporary copy
 * of the repository: what they make must type-check, lint and pass its own specs, and the
 * repository's own checks must still pass with it.
 */
describe('the generators, run in a copy of the repository', () => {
  let copy: string;
  let lockBefore: string;
  const generated: Record<string, { status: number | null; output: string }> = {};

  beforeAll(() => {
    copy = copyOfRepository();
    lockBefore = readFileSync(join(copy, 'package-lock.json'), 'utf8');
    generated.service = run(copy, 'node', ['tools/generators/new-service.mjs', SERVICE, '--resource', RESOURCE]);
    for (const { kind, id } of PLUGINS) generated[id] = run(copy, 'node', ['tools/generators/new-plugin.mjs', kind, 'scratch']);
  }, STEP_TIMEOUT);

  afterAll(() => {
    if (copy) rmSync(copy, { recursive: true, force: true });
  });

  it('makes the service and a plugin of every kind, and touches nothing of this repository', () => {
    for (const [what, result] of Object.entries(generated)) expect({ what, ...succeeded(result) }).toEqual({ what, status: 0 });
    for (const path of [`proto/trellis/${SERVICE}/v1/${SERVICE}_service.proto`, `libs/${SERVICE}/src/batches/batch.service.ts`, `apps/${SERVICE}/src/main.ts`, ...PLUGINS.flatMap(({ id }) => [`plugins/${id}/src/index.ts`, `plugins/${id}/README.md`])]) {
      expect({ path, inCopy: existsSync(join(copy, path)), here: existsSync(join(ROOT, path)) }).toEqual({ path, inCopy: true, here: false });
    }
    expect(readFileSync(join(ROOT, 'tsconfig.base.json'), 'utf8')).not.toContain(`@trellis/${SERVICE}`);
    expect(readFileSync(join(copy, 'package-lock.json'), 'utf8')).not.toBe(lockBefore);
  });

  it('gives the service the port after the highest one in use, and names it where the docs spec looks', () => {
    const port = Math.max(...servicePortsIn(ROOT)) + 1;
    expect(readFileSync(join(copy, `libs/${SERVICE}/src/${SERVICE}.definition.ts`), 'utf8')).toContain(`defaultPort: ${port}`);
    expect(readFileSync(join(copy, 'docs/architecture.md'), 'utf8')).toContain(`| ${SERVICE} (:${port}) |`);
    expect(readFileSync(join(copy, 'docs/configuration.md'), 'utf8')).toContain(`TRELLIS_INVENTORY_MAX_BATCHES_PER_PROJECT`);
  });

  it('refuses a taken name, a bad name, an unknown kind and a kind without a template, changing nothing', () => {
    const before = readFileSync(join(copy, 'tsconfig.base.json'), 'utf8');
    const again = run(copy, 'node', ['tools/generators/new-service.mjs', SERVICE]);
    expect(again.status).not.toBe(0);
    expect(again.output).toContain(`a service named "${SERVICE}" exists already`);
    expect(run(copy, 'node', ['tools/generators/new-service.mjs', 'Bad-Name']).output).toContain('"Bad-Name" is not a service name');
    expect(run(copy, 'node', ['tools/generators/new-service.mjs', 'platform']).output).toContain('"platform" is reserved');
    // npm keeps options given before `--` to itself: the value that arrives alone is refused, not ignored.
    expect(run(copy, 'node', ['tools/generators/new-service.mjs', 'data', 'dataset']).output).toContain('unexpected argument "dataset"');
    expect(run(copy, 'node', ['tools/generators/new-plugin.mjs', 'storage', 'scratch']).output).toContain('plugins/storage-scratch exists already');
    expect(run(copy, 'node', ['tools/generators/new-plugin.mjs', 'kms', 'Vault']).output).toContain('"Vault" is not a plugin name');
    expect(run(copy, 'node', ['tools/generators/new-plugin.mjs', 'queue', 'nats']).output).toContain('"queue" is not a plugin kind; the kinds are storage, compute, drift, runtime, kms, notifier');
    // As for a kind the SDK adds before anyone writes its template.
    const templates = join(copy, 'tools/generators/templates/plugin');
    renameSync(join(templates, 'kms'), join(templates, 'kms-set-aside'));
    try {
      expect(run(copy, 'node', ['tools/generators/new-plugin.mjs', 'kms', 'vault']).output).toContain('there is no template for kms plugins yet: add tools/generators/templates/plugin/kms');
    } finally {
      renameSync(join(templates, 'kms-set-aside'), join(templates, 'kms'));
    }
    expect(readFileSync(join(copy, 'tsconfig.base.json'), 'utf8')).toBe(before);
    expect(existsSync(join(copy, 'plugins/kms-vault'))).toBe(false);
  });

  it('leaves proto/ passing buf lint and the generated code and docs fresh', () => {
    expect(succeeded(run(copy, 'npx', ['buf', 'lint']))).toEqual({ status: 0 });
    expect(succeeded(run(copy, 'node', ['tools/check-generated.mjs']))).toEqual({ status: 0 });
  }, STEP_TIMEOUT);

  it('type-checks the whole copy', () => {
    expect(succeeded(run(copy, 'npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']))).toEqual({ status: 0 });
  }, STEP_TIMEOUT);

  it('lints what it made and what it edited, module boundaries included', () => {
    // The boundary rule reads the project graph, which nx computes and caches in the copy.
    expect(succeeded(run(copy, 'npx', ['nx', 'show', 'projects']))).toEqual({ status: 0 });
    const paths = [`libs/${SERVICE}`, `apps/${SERVICE}`, ...PLUGINS.map(({ id }) => `plugins/${id}`), 'apps/standalone/src/services.ts', 'tools/deploy/kubernetes/programs.ts', 'libs/gateway/src/upstreams/exposed-services.ts', 'libs/proto/src/index.ts'];
    const lint = run(copy, 'npx', ['eslint', '--max-warnings', '0', ...paths]);
    expect(succeeded(lint)).toEqual({ status: 0 });
  }, STEP_TIMEOUT);

  it("passes the new service's specs (SQLite, PostgreSQL, its own process beside governance)", () => {
    expect(succeeded(run(copy, 'npx', ['jest', '-c', `libs/${SERVICE}/jest.config.js`]))).toEqual({ status: 0 });
    expect(succeeded(run(copy, 'npx', ['jest', '-c', `apps/${SERVICE}/jest.config.js`]))).toEqual({ status: 0 });
  }, STEP_TIMEOUT);

  it("passes each plugin's spec, its kind's conformance suite included, as generated", () => {
    const report = join(copy, 'plugins-jest.json');
    const projects = PLUGINS.flatMap(({ id }) => ['--projects', `plugins/${id}/jest.config.js`]);
    expect(succeeded(run(copy, 'npx', ['jest', ...projects, '--json', '--outputFile', report]))).toEqual({ status: 0 });
    // Every kind's conformance suite ran and passed, not only specs that would pass without one.
    const { testResults } = JSON.parse(readFileSync(report, 'utf8')) as { testResults: { assertionResults: { ancestorTitles: string[]; status: string }[] }[] };
    const suites = new Set(testResults.flatMap((file) => file.assertionResults.filter((test) => test.status === 'passed').map((test) => test.ancestorTitles[0])));
    for (const kind of PLUGIN_KINDS) expect(suites).toContain(`${kind} conformance (v1): ${kind}-scratch`);
  }, STEP_TIMEOUT);

  it('keeps the docs and error-reasons specs, the gateway (an OpenAPI path for every exposed method) and the standalone process passing with the service registered', () => {
    expect(succeeded(run(copy, 'npx', ['jest', '-c', 'tools/jest.config.js', 'tools/lint/repository-docs.spec.ts', 'tools/lint/error-reasons.spec.ts']))).toEqual({ status: 0 });
    expect(succeeded(run(copy, 'npx', ['jest', '-c', 'apps/gateway/jest.config.js', 'apps/gateway/src/gateway.spec.ts']))).toEqual({ status: 0 });
    expect(succeeded(run(copy, 'npx', ['jest', '-c', 'apps/standalone/jest.config.js', 'apps/standalone/src/standalone.spec.ts']))).toEqual({ status: 0 });
  }, STEP_TIMEOUT);
});

import { closedPort, createTestDatabase, eventually, testNatsConfig, testPostgresUrl, type TestDatabase, type TestNatsConfig } from '@trellis/testing';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const CHECKOUT = resolve(__dirname, '../../..');

interface ImageConfig {
  workdir: string;
  env: Record<string, string>;
  user: string;
  exposed: number[];
  healthcheck: string[];
  entrypoint: string[];
  notCarriedOut: string[];
}

/** Every path under `dir` that is a symbolic link. */
function links(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isSymbolicLink()) return [path];
    return entry.isDirectory() ? links(path) : [];
  });
}

/**
 * deploy/containers/Containerfile carried out into a directory outside the checkout
 * (build-layout.mjs), and governance started from it as the image starts it: its ENTRYPOINT, its
 * ENV, in its WORKDIR. Node's permission model lets the process read only the directory and its
 * data directory, so a file it still needed from the checkout would stop it.
 */
describe('the governance image, built as a directory', () => {
  let work: string;
  let root: string;
  let config: ImageConfig;
  let database: TestDatabase<{ type: 'postgres'; url: string }>;
  let nats: TestNatsConfig;
  let program: ChildProcess;
  let output = '';
  let opsAddress: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'trellis-image-'));
    root = join(work, 'root');
    const built = spawnSync(process.execPath, ['deploy/containers/build-layout.mjs', 'governance', root], { cwd: CHECKOUT, encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`build-layout.mjs failed (${built.status}):\n${built.stdout}${built.stderr}`);
    config = JSON.parse(readFileSync(join(root, 'image-config.json'), 'utf8')) as ImageConfig;

    database = await createTestDatabase();
    nats = testNatsConfig();
    const dataDir = join(work, 'data');
    const [command, ...args] = config.entrypoint;
    program = spawn(join(root, 'usr/local/bin', command), args, {
      cwd: join(root, config.workdir),
      // The image's ENV, with what `podman run -e` would give it: where PostgreSQL and NATS are, ports of its own, a data volume.
      env: {
        ...config.env,
        ...nats.env,
        TRELLIS_DATABASE_URL: testPostgresUrl(),
        TRELLIS_GOVERNANCE_DATABASE_URL: database.config.url,
        TRELLIS_GOVERNANCE_PORT: '0',
        TRELLIS_OPS_PORT: '0',
        TRELLIS_DATA_DIR: dataDir,
        NODE_OPTIONS: `--experimental-permission --allow-fs-read=${root}/* --allow-fs-read=${dataDir}/* --allow-fs-write=${dataDir}/*`,
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    program.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    program.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const started = await Promise.race([
      once(program, 'message').then(([message]) => message as { opsAddress: string }),
      once(program, 'exit').then(([code]) => {
        throw new Error(`governance exited (${code}) before it listened:\n${output}`);
      }),
    ]);
    opsAddress = started.opsAddress.replace('0.0.0.0', '127.0.0.1');
  }, 180_000);

  afterAll(async () => {
    if (program && program.exitCode === null && program.signalCode === null) {
      program.kill('SIGTERM');
      await once(program, 'exit');
    }
    await nats?.cleanup();
    await database?.drop();
    rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it('is a distributed-mode program that runs as a non-root user and exposes its gRPC and ops ports', () => {
    expect(config.entrypoint).toEqual(['node', '.']);
    expect(JSON.parse(readFileSync(join(root, config.workdir, 'package.json'), 'utf8')).main).toBe('apps/governance/dist/main.js');
    expect(config.env.TRELLIS_MODE).toBe('distributed');
    expect(config.user).toBe('10001:10001');
    expect(config.exposed).toEqual([50051, 9464]);
    // What a directory cannot be given: a base system and users; everything else was carried out.
    expect(config.notCarriedOut.map((instruction) => instruction.split(' ')[0])).toEqual(['FROM', 'RUN', 'USER']);
  });

  it('holds real copies of what governance runs with, and none of the checkout sources', () => {
    expect(links(root)).toEqual([]);
    expect(lstatSync(join(root, config.workdir, 'node_modules/@trellis/governance/dist/index.js')).isFile()).toBe(true);
    expect(readdirSync(join(root, config.workdir, 'node_modules/@trellis/governance'))).toEqual(['dist', 'package.json']);
    // The packages only other programs use are left out.
    expect(readdirSync(join(root, config.workdir, 'node_modules/@trellis'))).not.toContain('serving');
    expect(readdirSync(join(root, config.workdir, 'node_modules'))).not.toContain('onnxruntime-node');
  });

  it('answers /healthz and /readyz with 200 once its database and NATS are up', async () => {
    expect((await fetch(`${opsAddress}/healthz`)).status).toBe(200);
    await eventually(async () => expect((await fetch(`${opsAddress}/readyz`)).status).toBe(200), { timeoutMs: 60_000 });
  }, 90_000);

  it("passes the image's HEALTHCHECK, run with the image's node, which fails where nothing answers", async () => {
    const [command, ...args] = config.healthcheck;
    const healthcheck = (port: string) => spawnSync(join(root, 'usr/local/bin', command), args, { env: { TRELLIS_OPS_PORT: port } }).status;
    expect(healthcheck(new URL(opsAddress).port)).toBe(0);
    expect(healthcheck(String(await closedPort()))).toBe(1);
  });
});

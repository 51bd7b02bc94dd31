import { closedPort, createTestDatabase, eventually, testNatsConfig, testPostgresUrl, testRunId, type TestDatabase, type TestNatsConfig } from '@trellis/testing';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const CHECKOUT = resolve(__dirname, '../../..');
const BASE = 'localhost/trellis-base:bookworm';

/** Runs podman; a failure throws with what it printed. */
function podman(...args: string[]): string {
  const run = spawnSync('podman', args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`podman ${args.join(' ')} failed (${run.status}):\n${run.stdout}${run.stderr}`);
  return run.stdout.trim();
}

/**
 * The governance image built by podman from deploy/containers/Containerfile on a debootstrapped
 * Debian base (ensure-podman.sh; no registry is needed), and run against this machine's PostgreSQL
 * and NATS. The run flags are those deploy/README.md gives for hosts like this one: runc, and
 * ulimits within the host's (podman's defaults are above them).
 */
describe('the governance image, built and run by podman', () => {
  const tag = `localhost/trellis-governance:test-${testRunId().toLowerCase()}`;
  const container = `trellis-governance-test-${testRunId().toLowerCase()}`;
  let database: TestDatabase<{ type: 'postgres'; url: string }>;
  let nats: TestNatsConfig;
  let opsPort: number;

  beforeAll(async () => {
    const ensured = spawnSync('bash', ['deploy/containers/ensure-podman.sh'], { cwd: CHECKOUT, encoding: 'utf8' });
    if (ensured.status !== 0) throw new Error(`ensure-podman.sh failed (${ensured.status}):\n${ensured.stdout}${ensured.stderr}`);
    const built = spawnSync(process.execPath, ['deploy/containers/build-image.mjs', 'governance', '--base', BASE, '--tag', tag, '--', '--isolation', 'chroot'], { cwd: CHECKOUT, encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`build-image.mjs failed (${built.status}):\n${built.stdout}${built.stderr}`);

    database = await createTestDatabase();
    nats = testNatsConfig();
    opsPort = await closedPort();
    const settings = {
      ...nats.env,
      TRELLIS_DATABASE_URL: testPostgresUrl(),
      TRELLIS_GOVERNANCE_DATABASE_URL: database.config.url,
      TRELLIS_GOVERNANCE_PORT: String(await closedPort()),
      TRELLIS_OPS_PORT: String(opsPort),
    };
    podman(
      'run', '--detach', '--name', container, '--network', 'host', '--runtime', 'runc', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024',
      ...Object.entries(settings).flatMap(([name, value]) => ['--env', `${name}=${value}`]),
      tag,
    );
  }, 600_000);

  afterAll(async () => {
    spawnSync('podman', ['rm', '--force', container]);
    spawnSync('podman', ['rmi', '--force', tag]);
    await nats?.cleanup();
    await database?.drop();
  }, 60_000);

  it('becomes ready: /healthz and /readyz answer 200', async () => {
    await eventually(async () => expect((await fetch(`http://127.0.0.1:${opsPort}/readyz`)).status).toBe(200), { timeoutMs: 60_000 });
    expect((await fetch(`http://127.0.0.1:${opsPort}/healthz`)).status).toBe(200);
  }, 90_000);

  it('passes its HEALTHCHECK and runs as the user trellis (10001), not root', () => {
    expect(podman('healthcheck', 'run', container)).toBe('');
    expect(podman('exec', container, 'id', '-u')).toBe('10001');
  });

  it('exposes its gRPC and ops ports and starts the program in distributed mode', () => {
    const config = JSON.parse(podman('image', 'inspect', '--format', '{{json .Config}}', tag)) as { ExposedPorts: Record<string, unknown>; Env: string[]; Entrypoint: string[] };
    expect(Object.keys(config.ExposedPorts).sort()).toEqual(['50051/tcp', '9464/tcp']);
    expect(config.Env).toContain('TRELLIS_MODE=distributed');
    expect(config.Entrypoint).toEqual(['node', '.']);
    expect(podman('logs', container)).toContain('Trellis (distributed) is running.');
  });
});

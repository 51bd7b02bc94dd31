import { closedPort } from '@trellis/testing';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runUserFlow } from './user-flow';

const ROOT = resolve(__dirname, '../..');
const ADMIN_KEY = `trellis_00000000000000e2_${'E'.repeat(43)}`;

/** The program's message once everything listens (libs/platform's StartedMessage). */
interface Started {
  type: 'trellis.started';
  opsAddress: string;
  edges: Record<string, string>;
}

/**
 * Issue 18's end-to-end suite against standalone: `npm start`'s script, tools/start.mjs (every
 * service and the gateway in one process, on SQLite), started as its own process with its own data
 * directory and ports, and a user's whole path through its gateway. The script builds dist/ first
 * unless `npm test` built it already (TRELLIS_PREBUILT=1), which it passes on.
 */
describe('a user flow through the gateway, every service in one process', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'trellis-standalone-'));
  let program: ChildProcess;
  let output = '';
  let gateway: string;

  beforeAll(async () => {
    const [gatewayPort, servingHttpPort] = [await closedPort(), await closedPort()];
    const ports = Object.fromEntries(['governance', 'tracking', 'registry', 'data', 'compute', 'serving', 'monitoring'].map((service) => [`TRELLIS_${service.toUpperCase()}_PORT`, '0']));
    program = fork(join(ROOT, 'tools/start.mjs'), [], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: {
        ...process.env,
        ...ports,
        TRELLIS_DATA_DIR: dataDir,
        TRELLIS_OPS_PORT: '0',
        TRELLIS_GATEWAY_PORT: String(gatewayPort),
        // The gateway forwards /v2 to serving's REST port, and jobs reach the gateway: both are known before the start.
        TRELLIS_SERVING_HTTP_PORT: String(servingHttpPort),
        TRELLIS_COMPUTE_TRACKING_URI: `http://127.0.0.1:${gatewayPort}`,
        TRELLIS_GOVERNANCE_ADMIN_KEY: ADMIN_KEY,
        TRELLIS_LOG_FORMAT: 'json',
      },
    });
    for (const stream of [program.stdout!, program.stderr!]) stream.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const started = await Promise.race([
      once(program, 'message').then(([message]) => message as Started),
      once(program, 'exit').then(([code]) => Promise.reject(new Error(`npm start's script exited (${code}) before it was up:\n${output}`))),
    ]);
    gateway = started.edges.gateway;
  }, 240_000);

  afterAll(async () => {
    if (program && program.exitCode === null && program.signalCode === null) {
      program.kill('SIGTERM');
      await once(program, 'exit');
    }
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('takes a dataset to a trained, registered, served and monitored model', async () => {
    await runUserFlow({ gateway, adminKey: ADMIN_KEY }, 'standalone');
  }, 180_000);
});

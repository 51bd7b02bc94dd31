import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stablePort } from './ports';

const ROOT = resolve(__dirname, '../../..');
const SERVICES = ['governance', 'tracking', 'registry', 'data', 'compute', 'serving', 'monitoring'];

/** The admin's API key of a standalone a spec starts (a fixed, valid key: the data directory is new each time). */
export const STANDALONE_ADMIN_KEY = `trellis_0000000000000ad1_${'A'.repeat(43)}`;

/** A standalone platform (`npm start`'s script) running as a process of its own. */
export interface StandaloneProcess {
  /** The gateway's base URL. */
  gateway: string;
  adminKey: string;
  dataDir: string;
  /** What the process printed so far (for a failure's message). */
  output(): string;
  /** Stops it (SIGTERM, then waits) and removes its data directory. */
  close(): Promise<void>;
}

/** The program's message once everything listens (libs/platform's StartedMessage). */
interface Started {
  type: 'trellis.started';
  edges: Record<string, string>;
}

/**
 * Starts `npm start`'s script (tools/start.mjs: every service and the gateway in one process, on
 * SQLite) with a data directory and ports of its own, and resolves once it is up. The gateway
 * knows serving's REST port (for /v2) and compute the gateway's URL (for jobs), so both are fixed
 * before it starts. It builds dist/ first unless TRELLIS_PREBUILT=1 says `npm test` did.
 */
export async function startStandaloneProcess(env: Record<string, string> = {}): Promise<StandaloneProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'trellis-standalone-'));
  const [gatewayPort, servingHttpPort] = [await stablePort(), await stablePort()];
  const ports = Object.fromEntries(SERVICES.map((service) => [`TRELLIS_${service.toUpperCase()}_PORT`, '0']));
  const program: ChildProcess = fork(join(ROOT, 'tools/start.mjs'), [], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: {
      ...process.env,
      ...ports,
      TRELLIS_DATA_DIR: dataDir,
      TRELLIS_OPS_PORT: '0',
      TRELLIS_GATEWAY_PORT: String(gatewayPort),
      TRELLIS_SERVING_HTTP_PORT: String(servingHttpPort),
      TRELLIS_COMPUTE_TRACKING_URI: `http://127.0.0.1:${gatewayPort}`,
      TRELLIS_GOVERNANCE_ADMIN_KEY: STANDALONE_ADMIN_KEY,
      TRELLIS_LOG_FORMAT: 'json',
      ...env,
    },
  });
  let output = '';
  for (const stream of [program.stdout!, program.stderr!]) stream.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const stop = async () => {
    if (program.exitCode === null && program.signalCode === null) {
      program.kill('SIGTERM');
      await once(program, 'exit');
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const started = await Promise.race([
      once(program, 'message').then(([message]) => message as Started),
      once(program, 'exit').then(([code]) => Promise.reject(new Error(`npm start's script exited (${code}) before it was up:\n${output}`))),
    ]);
    return { gateway: started.edges.gateway, adminKey: STANDALONE_ADMIN_KEY, dataDir, output: () => output, close: stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

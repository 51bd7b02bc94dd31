import { dataService } from '@trellis/data';
import { gatewayEdge } from '@trellis/gateway';
import { governanceService } from '@trellis/governance';
import { runProcess, type RunningProcess } from '@trellis/platform';
import kmsLocal from '@trellis/plugin-kms-local';
import runtimeOnnx from '@trellis/plugin-runtime-onnx';
import storageFs from '@trellis/plugin-storage-fs';
import { registryService } from '@trellis/registry';
import { servingService } from '@trellis/serving';
import { closedPort } from '@trellis/testing';
import { trackingService } from '@trellis/tracking';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRuntimeOnnx } from './onnx-serving';

/** The platform as a user meets it: governance, data, tracking, registry and serving behind the gateway, in one standalone process. */
export interface ServingPlatform {
  /** The spec's scratch folder, removed by `stop`. */
  readonly dir: string;
  /** The gateway's base URL (HTTP: JSON routes, MLflow, OIP REST under /v2). */
  readonly gateway: string;
  /** serving's gRPC address (OIP gRPC and the serving API), `127.0.0.1:<port>`. */
  readonly servingGrpc: string;
  readonly process: RunningProcess;
  /** `POST <path>` of a JSON body to the gateway with `apiKey`; an answer other than 200 throws, saying it. */
  post<T>(path: string, body: object, apiKey: string): Promise<T>;
  /** `post` to the JSON route of a gRPC method, `/v1/<package.Service>/<Method>`. */
  call<T>(method: string, body: object, apiKey: string): Promise<T>;
  /** A request to the gateway with `apiKey` as the bearer credential. */
  http(path: string, apiKey: string, init?: RequestInit): Promise<Response>;
  /** Stops the process, restores `process.env` and removes the scratch folder. */
  stop(): Promise<void>;
}

/**
 * Starts the platform in this process (standalone, SQLite, every port picked free but serving's
 * REST port, which the gateway must know), with `adminKey` as governance's first admin key and
 * serving's runtime-onnx worker built from this workspace. `env` adds to or overrides the
 * settings. It changes `process.env` until `stop`.
 */
export async function startServingPlatform(name: string, adminKey: string, env: Record<string, string> = {}): Promise<ServingPlatform> {
  const saved = { ...process.env };
  const dir = mkdtempSync(join(tmpdir(), `trellis-serving-${name}-`));
  const cleanUp = () => {
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  };
  let running: RunningProcess;
  try {
    const services = [governanceService, dataService, trackingService, registryService, servingService];
    Object.assign(process.env, {
      TRELLIS_DATA_DIR: join(dir, 'data'),
      TRELLIS_OPS_PORT: '0',
      TRELLIS_LOG_LEVEL: 'silent',
      TRELLIS_GOVERNANCE_ADMIN_KEY: adminKey,
      TRELLIS_GATEWAY_PORT: '0',
      TRELLIS_SERVING_HTTP_PORT: String(await closedPort()),
      TRELLIS_SERVING_RUNTIME_MODULES: `runtime-onnx=${await buildRuntimeOnnx(dir)}`,
      ...Object.fromEntries(services.map((service) => [`TRELLIS_${service.name.toUpperCase()}_PORT`, '0'])),
      ...env,
    });
    running = await runProcess({ mode: 'standalone', services, edges: [gatewayEdge], plugins: [storageFs, kmsLocal, runtimeOnnx], print: () => undefined });
  } catch (error) {
    cleanUp();
    throw error;
  }
  const gateway = running.edges.find((edge) => edge.name === 'gateway')!.address;
  const http = (path: string, apiKey: string, init: RequestInit = {}) => fetch(`${gateway}${path}`, { ...init, headers: { authorization: `Bearer ${apiKey}`, ...init.headers } });
  const post = async <T>(path: string, body: object, apiKey: string): Promise<T> => {
    const response = await http(path, apiKey, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`${path}: ${response.status} ${text}`);
    return JSON.parse(text) as T;
  };
  return {
    dir,
    gateway,
    servingGrpc: running.services.find((service) => service.name === 'serving')!.grpcAddress,
    process: running,
    http,
    post,
    call: (method, body, apiKey) => post(`/v1/${method}`, body, apiKey),
    async stop() {
      await running.stop();
      cleanUp();
    },
  };
}

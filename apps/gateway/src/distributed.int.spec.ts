import 'reflect-metadata';
import { EXPOSED_SERVICES, gatewayEdge } from '@trellis/gateway';
import { governanceService } from '@trellis/governance';
import { ConfigError, loadConfig, PlatformRuntime, runProcess, StartupError, type RunningProcess } from '@trellis/platform';
import { ExperimentServiceDesc, IdentityServiceDesc } from '@trellis/proto';
import { closedPort, occupiedPort } from '@trellis/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ADMIN_KEY = `trellis_00000000000000ac_${'u'.repeat(43)}`;

/** A distributed gateway-only runtime (no NATS, no database) with the given TRELLIS_* settings. */
const gatewayRuntime = (env: Record<string, string>) =>
  PlatformRuntime.create(loadConfig({ env: { TRELLIS_MODE: 'distributed', TRELLIS_OPS_PORT: '0', TRELLIS_SERVING_HTTP_PORT: '0', TRELLIS_GATEWAY_PORT: '0', TRELLIS_LOG_LEVEL: 'silent', ...env } }), {
    withoutBroker: true,
  });

describe('the gateway and its upstreams', () => {
  const saved = { ...process.env };
  const dir = mkdtempSync(join(tmpdir(), 'trellis-gateway-upstreams-'));
  let running: RunningProcess;
  let gatewayAddress: string;
  let trackingAddress: string;

  beforeAll(async () => {
    // Governance and the gateway in one process; tracking's upstream is a port nothing listens on.
    trackingAddress = `127.0.0.1:${await closedPort()}`;
    Object.assign(process.env, {
      TRELLIS_DATA_DIR: dir,
      TRELLIS_OPS_PORT: '0',
      TRELLIS_SERVING_HTTP_PORT: '0',
      TRELLIS_GOVERNANCE_PORT: '0',
      TRELLIS_GATEWAY_PORT: '0',
      TRELLIS_LOG_LEVEL: 'silent',
      TRELLIS_GOVERNANCE_ADMIN_KEY: ADMIN_KEY,
      TRELLIS_GATEWAY_UPSTREAM_TRACKING: trackingAddress,
    });
    running = await runProcess({ mode: 'standalone', services: [governanceService], edges: [gatewayEdge], print: () => undefined });
    gatewayAddress = running.edges[0].address;
  });

  afterAll(async () => {
    await running?.stop();
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  /** An RPC through the gateway with an empty request, as the admin. */
  const rpc = (service: { typeName: string }, method: string) =>
    fetch(`${gatewayAddress}/v1/${service.typeName}/${method}`, { method: 'POST', body: '{}', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' } });
  const describeTracking = () => `the tracking service at ${trackingAddress} (gateway.upstreams.tracking, TRELLIS_GATEWAY_UPSTREAM_TRACKING)`;

  it("answers /healthz on its own port, and /readyz 503 naming the upstream that does not answer while governance's does", async () => {
    const health = await fetch(`${gatewayAddress}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });

    const ready = await fetch(`${gatewayAddress}/readyz`);
    expect(ready.status).toBe(503);
    const { checks } = (await ready.json()) as { checks: Array<{ name: string; ok: boolean; reason?: string }> };
    expect(checks).toEqual(
      expect.arrayContaining([
        { name: 'gateway.upstream.governance', ok: true },
        { name: 'gateway.upstream.tracking', ok: false, reason: `${describeTracking()} is not answering; check that it runs there` },
      ]),
    );
    // The process's ops port answers the same.
    expect((await fetch(`${running.opsAddress}/readyz`)).status).toBe(503);
  });

  it('answers a call whose upstream is down with 503 naming that service, not the transport error', async () => {
    const response = await rpc(ExperimentServiceDesc, 'SearchExperiments');
    expect(response.status).toBe(503);
    const body = (await response.json()) as { status: string; message: string };
    expect(body).toMatchObject({ status: 'UNAVAILABLE', message: `${describeTracking()} is not answering; check that it runs there` });
    expect(body.message).not.toContain('No connection established');
  });

  it('answers MLflow clients the same way, as TEMPORARILY_UNAVAILABLE', async () => {
    const response = await fetch(`${gatewayAddress}/api/2.0/mlflow/experiments/get-by-name?experiment_name=x`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error_code: 'TEMPORARILY_UNAVAILABLE', message: expect.stringContaining(describeTracking()) });
  });

  it('still answers calls to the upstreams that are up', async () => {
    expect((await rpc(IdentityServiceDesc, 'ListProjects')).status).toBe(200);
  });
});

describe('a gateway that cannot start says why', () => {
  it('refuses to start in distributed mode without upstreams, naming the variables', async () => {
    const runtime = await gatewayRuntime({});
    const error = await gatewayEdge.start({ runtime, upstreams: {} }).catch((thrown: unknown) => thrown);
    await runtime.close();
    expect(error).toBeInstanceOf(ConfigError);
    const variables = Object.keys(EXPOSED_SERVICES).map((service) => `TRELLIS_GATEWAY_UPSTREAM_${service.toUpperCase()}`);
    expect(variables.slice(0, 3)).toEqual(['TRELLIS_GATEWAY_UPSTREAM_GOVERNANCE', 'TRELLIS_GATEWAY_UPSTREAM_TRACKING', 'TRELLIS_GATEWAY_UPSTREAM_REGISTRY']);
    expect((error as Error).message).toBe(
      `the gateway has no upstreams: set gateway.upstreams.<service> to host:port of each service's gRPC server (${variables.join(', ')}); governance's is needed for API keys`,
    );
  });

  it('refuses an upstream named after no service it serves', async () => {
    const runtime = await gatewayRuntime({ TRELLIS_GATEWAY_UPSTREAM_TRACKNG: '127.0.0.1:50053' });
    const error = await gatewayEdge.start({ runtime, upstreams: {} }).catch((thrown: unknown) => thrown);
    await runtime.close();
    expect((error as Error).message).toBe(
      `gateway.upstreams.trackng (TRELLIS_GATEWAY_UPSTREAM_TRACKNG): the gateway serves no service of that name; it serves ${[...Object.keys(EXPOSED_SERVICES), 'inference'].join(', ')}`,
    );
    expect(Object.keys(EXPOSED_SERVICES)).toEqual(expect.arrayContaining(['governance', 'tracking', 'registry', 'data']));
  });

  it('names gateway.port when its port is in use', async () => {
    const { port, release } = await occupiedPort();
    const runtime = await gatewayRuntime({ TRELLIS_GATEWAY_PORT: String(port), TRELLIS_GATEWAY_UPSTREAM_GOVERNANCE: '127.0.0.1:50051' });
    const error = await gatewayEdge.start({ runtime, upstreams: {} }).catch((thrown: unknown) => thrown);
    await runtime.close();
    await release();
    expect(error).toBeInstanceOf(StartupError);
    expect((error as Error).message).toBe(
      `the gateway cannot listen on 127.0.0.1:${port}: the port is in use (another Trellis process, or another program); choose another with gateway.port (TRELLIS_GATEWAY_PORT)`,
    );
  });
});

import 'reflect-metadata';
import { governanceService } from '@trellis/governance';
import { ConfigError, loadConfig, PlatformRuntime, StartupError, type RunningEdge, type RunningService } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import { ExperimentService, IdentityService } from '@trellis/proto';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { gatewayEdge } from '@trellis/gateway';

const ADMIN_KEY = `trellis_00000000000000ac_${'u'.repeat(43)}`;

async function occupiedPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, server };
}

async function closedPort(): Promise<number> {
  const { port, server } = await occupiedPort();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A distributed gateway-only runtime (no NATS, no database) with the given TRELLIS_* settings. */
const gatewayRuntime = (env: Record<string, string>) =>
  PlatformRuntime.create(loadConfig({ env: { TRELLIS_MODE: 'distributed', TRELLIS_OPS_PORT: '0', TRELLIS_GATEWAY_PORT: '0', TRELLIS_LOG_LEVEL: 'silent', ...env } }), {
    withoutBroker: true,
  });

describe('the gateway and its upstreams', () => {
  let platform: TestPlatform;
  let governance: RunningService;
  let gateway: RunningEdge;
  let trackingAddress: string;

  beforeAll(async () => {
    trackingAddress = `127.0.0.1:${await closedPort()}`;
    platform = await TestPlatform.start({
      TRELLIS_GOVERNANCE_PORT: '0',
      TRELLIS_GATEWAY_PORT: '0',
      TRELLIS_ADMIN_KEY: ADMIN_KEY,
      TRELLIS_AUTH_JWKS_FILE: '',
      TRELLIS_GATEWAY_UPSTREAM_TRACKING: trackingAddress,
    });
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      governance = await platform.startService(governanceService);
    } finally {
      process.stdout.write = write;
    }
    gateway = await gatewayEdge.start({ runtime: platform.runtime, upstreams: { governance: governance.grpcAddress } });
  });

  afterAll(async () => {
    await gateway?.close();
    await platform?.stop();
  });

  const describeTracking = () => `the tracking service at ${trackingAddress} (gateway.upstreams.tracking, TRELLIS_GATEWAY_UPSTREAM_TRACKING)`;

  it("answers /healthz on its own port, and /readyz 503 naming the upstream that does not answer while governance's does", async () => {
    const health = await fetch(`${gateway.address}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });

    const ready = await fetch(`${gateway.address}/readyz`);
    expect(ready.status).toBe(503);
    const { checks } = (await ready.json()) as { checks: Array<{ name: string; ok: boolean; reason?: string }> };
    expect(checks).toEqual(
      expect.arrayContaining([
        { name: 'gateway.upstream.governance', ok: true },
        { name: 'gateway.upstream.tracking', ok: false, reason: `${describeTracking()} is not answering; check that it runs there` },
      ]),
    );
    // The process's ops port answers the same.
    expect((await fetch(`${platform.opsAddress}/readyz`)).status).toBe(503);
  });

  it('answers a call whose upstream is down with 503 naming that service, not the transport error', async () => {
    const response = await fetch(`${gateway.address}/v1/${ExperimentService.typeName}/SearchExperiments`, {
      method: 'POST',
      body: '{}',
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(response.status).toBe(503);
    const body = (await response.json()) as { status: string; message: string };
    expect(body).toMatchObject({ status: 'UNAVAILABLE', message: `${describeTracking()} is not answering; check that it runs there` });
    expect(body.message).not.toContain('No connection established');
  });

  it('answers MLflow clients the same way, as TEMPORARILY_UNAVAILABLE', async () => {
    const response = await fetch(`${gateway.address}/api/2.0/mlflow/experiments/get-by-name?experiment_name=x`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error_code: 'TEMPORARILY_UNAVAILABLE', message: expect.stringContaining(describeTracking()) });
  });

  it('still answers calls to the upstreams that are up', async () => {
    const response = await fetch(`${gateway.address}/v1/${IdentityService.typeName}/ListProjects`, {
      method: 'POST',
      body: '{}',
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(response.status).toBe(200);
  });
});

describe('a gateway that cannot start says why', () => {
  it('refuses to start in distributed mode without upstreams, naming the variables', async () => {
    const runtime = await gatewayRuntime({});
    const error = await gatewayEdge.start({ runtime, upstreams: {} }).catch((thrown: unknown) => thrown);
    await runtime.close();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      "the gateway has no upstreams: set gateway.upstreams.<service> to host:port of each service's gRPC server " +
        "(TRELLIS_GATEWAY_UPSTREAM_GOVERNANCE, TRELLIS_GATEWAY_UPSTREAM_TRACKING, TRELLIS_GATEWAY_UPSTREAM_REGISTRY); governance's is needed for API keys",
    );
  });

  it('refuses an upstream named after no service it serves', async () => {
    const runtime = await gatewayRuntime({ TRELLIS_GATEWAY_UPSTREAM_TRACKNG: '127.0.0.1:50053' });
    const error = await gatewayEdge.start({ runtime, upstreams: {} }).catch((thrown: unknown) => thrown);
    await runtime.close();
    expect((error as Error).message).toBe(
      'gateway.upstreams.trackng (TRELLIS_GATEWAY_UPSTREAM_TRACKNG): the gateway serves no service of that name; it serves governance, tracking, registry',
    );
  });

  it('names gateway.port when its port is in use', async () => {
    const { port, server } = await occupiedPort();
    const runtime = await gatewayRuntime({ TRELLIS_GATEWAY_PORT: String(port), TRELLIS_GATEWAY_UPSTREAM_GOVERNANCE: '127.0.0.1:50051' });
    const error = await gatewayEdge.start({ runtime, upstreams: {} }).catch((thrown: unknown) => thrown);
    await runtime.close();
    server.close();
    expect(error).toBeInstanceOf(StartupError);
    expect((error as Error).message).toBe(
      `the gateway cannot listen on 127.0.0.1:${port}: the port is in use (another Trellis process, or another program); choose another with gateway.port (TRELLIS_GATEWAY_PORT)`,
    );
  });
});

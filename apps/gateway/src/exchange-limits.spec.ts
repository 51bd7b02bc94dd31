import 'reflect-metadata';
import { gatewayEdge } from '@trellis/gateway';
import { governanceService } from '@trellis/governance';
import type { RunningEdge } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import { IdentityServiceDesc } from '@trellis/proto';

/** Governance's limit on rejected key exchanges, as a client of the gateway meets it. */
describe('the gateway when governance refuses key exchanges for a while', () => {
  let platform: TestPlatform;
  let gateway: RunningEdge;

  beforeAll(async () => {
    // One rejected exchange per four seconds from one address, a burst of one: a burst of five always meets the limit.
    platform = await TestPlatform.start({ TRELLIS_GOVERNANCE_PORT: '0', TRELLIS_GATEWAY_PORT: '0', TRELLIS_AUTH_JWKS_FILE: '', TRELLIS_GOVERNANCE_EXCHANGES_PER_ADDRESS_PER_SECOND: '0.25' });
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      const governance = await platform.startService(governanceService);
      gateway = await gatewayEdge.start({ runtime: platform.runtime, upstreams: { governance: governance.grpcAddress } });
    } finally {
      process.stdout.write = write;
    }
  });

  afterAll(async () => {
    await gateway?.close();
    await platform?.stop();
  });

  it("answers MLflow's REQUEST_LIMIT_EXCEEDED with 429 and the limiter's Retry-After", async () => {
    const guesses = Array.from({ length: 5 }, (_, i) => `trellis_${i.toString(16).padStart(16, '0')}_${'g'.repeat(43)}`);
    const responses = await Promise.all(
      guesses.map((key) => fetch(`${gateway.address}/api/2.0/mlflow/experiments/get-by-name?experiment_name=x`, { headers: { authorization: `Bearer ${key}` } })),
    );
    const limited = responses.filter((response) => response.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    for (const response of limited) {
      // The next rejection is due about four seconds after the first (three, on a machine slow enough).
      expect(response.headers.get('retry-after')).toMatch(/^[34]$/);
      expect(await response.json()).toEqual({
        error_code: 'REQUEST_LIMIT_EXCEEDED',
        message: 'API key exchange failed: too many rejected key exchanges from this address; wait a few seconds',
      });
    }
    expect(responses.filter((response) => response.status !== 429).map((response) => response.status)).toEqual(expect.arrayContaining([401]));
  });

  it('answers the /rpc routes with 429 and the limit\'s RetryInfo in the error body', async () => {
    const guesses = Array.from({ length: 5 }, (_, i) => `trellis_${(i + 16).toString(16).padStart(16, '0')}_${'g'.repeat(43)}`);
    const responses = await Promise.all(
      guesses.map((key) =>
        fetch(`${gateway.address}/v1/${IdentityServiceDesc.typeName}/ListProjects`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` } }),
      ),
    );
    const limited = responses.filter((response) => response.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    for (const response of limited) {
      const body = (await response.json()) as { retry_delay_seconds: number };
      expect(body).toMatchObject({ status: 'RESOURCE_EXHAUSTED', domain: 'governance.trellis', reason: expect.stringMatching(/^[A-Z_]+$/) });
      expect(String(body.retry_delay_seconds)).toBe(response.headers.get('retry-after'));
    }
  });
});

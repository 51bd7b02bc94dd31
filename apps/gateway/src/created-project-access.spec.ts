import 'reflect-metadata';
import { gatewayEdge } from '@trellis/gateway';
import { governanceService } from '@trellis/governance';
import type { RunningEdge } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import storageFs from '@trellis/plugin-storage-fs';
import { ExperimentServiceDesc, IdentityServiceDesc } from '@trellis/proto';
import { trackingService } from '@trellis/tracking';

const ADMIN_KEY = `trellis_00000000000000ad_${'p'.repeat(43)}`;

/** An org admin who creates a project through the gateway, then works in it with the same API key (governance and tracking in one process, SQLite). */
describe('a project created through the gateway', () => {
  let platform: TestPlatform;
  let gateway: RunningEdge;

  beforeAll(async () => {
    // Governance signs with its own keys, which this process serves: no test key set.
    platform = await TestPlatform.start(
      { TRELLIS_GOVERNANCE_PORT: '0', TRELLIS_TRACKING_PORT: '0', TRELLIS_GATEWAY_PORT: '0', TRELLIS_GOVERNANCE_ADMIN_KEY: ADMIN_KEY, TRELLIS_AUTH_JWKS_FILE: '' },
      { plugins: [storageFs] },
    );
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      const governance = await platform.startService(governanceService);
      const tracking = await platform.startService(trackingService);
      gateway = await gatewayEdge.start({ runtime: platform.runtime, upstreams: { governance: governance.grpcAddress, tracking: tracking.grpcAddress } });
    } finally {
      process.stdout.write = write;
    }
  });

  afterAll(async () => {
    await gateway?.close();
    await platform?.stop();
  });

  const call = async (service: { typeName: string }, method: string, body: unknown) => {
    const response = await fetch(`${gateway.address}/v1/${service.typeName}/${method}`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('is usable at once with the API key that created it, though the gateway had a token for the key from before', async () => {
    expect((await call(IdentityServiceDesc, 'ListProjects', {})).status).toBe(200);
    const created = await call(IdentityServiceDesc, 'CreateProject', { name: 'fresh' });
    expect(created.status).toBe(200);
    const projectId = (created.body.project as { id: string }).id;

    const experiment = await call(ExperimentServiceDesc, 'CreateExperiment', { projectId, name: 'first' });
    expect(experiment).toMatchObject({ status: 200, body: { experiment: { projectId, name: 'first' } } });
    expect(await call(ExperimentServiceDesc, 'GetExperimentByName', { projectId, name: 'first' })).toMatchObject({ status: 200 });
  });

  it('is usable at once after each of several projects created in a row', async () => {
    for (const name of ['row-1', 'row-2', 'row-3']) {
      const projectId = ((await call(IdentityServiceDesc, 'CreateProject', { name })).body.project as { id: string }).id;
      expect((await call(ExperimentServiceDesc, 'CreateExperiment', { projectId, name: 'exp' })).status).toBe(200);
    }
  });
});

import { eventually } from '@trellis/testing';
import { startDistributedPlatform, type DistributedPlatform } from './distributed-platform';

/**
 * The harness the end-to-end, version-skew and chaos suites share: `npm run start:distributed`
 * under a spec's control. A process killed with SIGKILL comes back on its old ports, and the
 * gateway reaches it again without being restarted itself.
 */
describe("the distributed platform under a spec's control", () => {
  let platform: DistributedPlatform;

  beforeAll(async () => {
    platform = await startDistributedPlatform();
  }, 240_000);

  afterAll(async () => platform?.close(), 60_000);

  const ready = async (url: string) => (await fetch(`${url}/readyz`).catch(() => undefined))?.status;

  it('says where every process listens and gives the first admin key', () => {
    expect(platform.adminKey).toMatch(/^trellis_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(platform.processes.registry.grpc).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(platform.gateway).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('brings a killed service back on the same ports, and the gateway finds it there', async () => {
    const before = platform.processes.registry;
    await platform.stop('registry', 'SIGKILL');
    expect(await ready(before.ops)).toBeUndefined();
    await eventually(async () => expect(await ready(platform.gateway)).toBe(503), { timeoutMs: 30_000 });

    await platform.start('registry');
    expect(platform.processes.registry).toEqual(before);
    expect(await ready(before.ops)).toBe(200);
    await eventually(async () => expect(await ready(platform.gateway)).toBe(200), { timeoutMs: 30_000 });
  }, 120_000);

  it('refuses to start a process that runs', async () => {
    await expect(platform.start('tracking')).rejects.toThrow('tracking is running; stop it first');
  });
});

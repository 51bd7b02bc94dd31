import { createLogger } from './logger';
import { Metrics } from './metrics';
import { OpsServer, type ReadinessCheck } from './ops-server';

describe('OpsServer /readyz', () => {
  let ops: OpsServer;
  let address: string;

  beforeEach(async () => {
    ops = new OpsServer(new Metrics(), createLogger({ level: 'silent' }));
    address = await ops.listen('127.0.0.1', 0);
  });

  afterEach(() => ops.close());

  const readyz = async () => {
    const response = await fetch(`${address}/readyz`);
    return { status: response.status, body: await response.json() };
  };
  const passing = (name: string, report?: Awaited<ReturnType<ReadinessCheck['check']>>): ReadinessCheck => ({ name, check: async () => report });

  it('is ready when every check passes, with the figures they report', async () => {
    ops.addReadinessCheck(passing('tracking.database'));
    ops.addReadinessCheck(passing('tracking.outbox', { figures: { pending: 0 } }));

    expect(await readyz()).toEqual({
      status: 200,
      body: { status: 'ready', checks: [{ name: 'tracking.database', ok: true }, { name: 'tracking.outbox', ok: true, pending: 0 }] },
    });
  });

  it('stays ready but says degraded, and why, when a passing check reports a reason', async () => {
    ops.addReadinessCheck(passing('tracking.outbox', { figures: { pending: 37 }, degraded: '37 events wait' }));
    ops.addReadinessCheck(passing('events.nats', { degraded: 'NATS is out of reach' }));

    expect(await readyz()).toEqual({
      status: 200,
      body: {
        status: 'degraded',
        checks: [
          { name: 'tracking.outbox', ok: true, pending: 37, degraded: '37 events wait' },
          { name: 'events.nats', ok: true, degraded: 'NATS is out of reach' },
        ],
      },
    });
  });

  it('is not ready when a check fails, whatever others report', async () => {
    ops.addReadinessCheck(passing('events.nats', { degraded: 'NATS is out of reach' }));
    ops.addReadinessCheck({ name: 'tracking.database', check: () => Promise.reject(new Error('connect ECONNREFUSED')) });

    const { status, body } = await readyz();

    expect(status).toBe(503);
    expect(body).toEqual({
      status: 'not ready',
      checks: [
        { name: 'events.nats', ok: true, degraded: 'NATS is out of reach' },
        { name: 'tracking.database', ok: false, reason: 'connect ECONNREFUSED' },
      ],
    });
  });
});

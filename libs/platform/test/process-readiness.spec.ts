import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess, type EdgeDefinition } from '../src';
import { widgetService } from './widget/widget.service';

describe("a process's /readyz while it starts", () => {
  const saved = { ...process.env };
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'trellis-readiness-'));
    Object.assign(process.env, { TRELLIS_DATA_DIR: dir, TRELLIS_OPS_PORT: '0', TRELLIS_LOG_LEVEL: 'silent' });
  });

  afterEach(() => {
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 until every server listens, then 200 with each service’s database and outbox', async () => {
    // An edge starts after the services and before it listens itself: the process is not ready yet.
    let duringStart: { status: number; body: unknown } | undefined;
    const edge: EdgeDefinition = {
      name: 'prober',
      async start({ runtime }) {
        const response = await fetch(`${await runtime.listenOps()}/readyz`);
        duringStart = { status: response.status, body: await response.json() };
        return { address: 'http://127.0.0.1:1', close: async () => undefined };
      },
    };

    const running = await runProcess({ mode: 'standalone', services: [widgetService], edges: [edge], print: () => undefined });
    try {
      expect(duringStart).toEqual({
        status: 503,
        body: {
          status: 'not ready',
          checks: expect.arrayContaining([{ name: 'process', ok: false, reason: 'starting: not every server listens yet' }]),
        },
      });
      const ready = await fetch(`${running.opsAddress}/readyz`);
      expect(ready.status).toBe(200);
      const { checks } = (await ready.json()) as { checks: Array<{ name: string }> };
      expect(checks.map((check) => check.name)).toEqual(['widgets.database', 'widgets.outbox']);
    } finally {
      await running.stop();
    }
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess, type EdgeDefinition } from '../src';
import { widgetService } from './widget/widget.service';

/** Whether something accepts TCP connections at host:port. */
function listening(address: string): Promise<boolean> {
  const [host, port] = address.split(':');
  return new Promise((resolve) => {
    const socket = connect(Number(port), host, () => socket.end(() => resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

describe('a process with edges', () => {
  const saved = { ...process.env };
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'trellis-edges-'));
    Object.assign(process.env, { TRELLIS_DATA_DIR: dir, TRELLIS_OPS_PORT: '0', TRELLIS_LOG_LEVEL: 'silent' });
  });

  afterEach(() => {
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  /** An edge that records what it was given, and whether its upstreams still listened when it closed. */
  function recordingEdge() {
    const seen: { upstreams?: Record<string, string>; upstreamsUpAtClose?: boolean[] } = {};
    const edge: EdgeDefinition = {
      name: 'recorder',
      async start({ upstreams }) {
        seen.upstreams = { ...upstreams };
        return {
          address: 'http://127.0.0.1:1',
          close: async () => void (seen.upstreamsUpAtClose = await Promise.all(Object.values(upstreams).map(listening))),
        };
      },
    };
    return { edge, seen };
  }

  it('starts edges after the services, tells them where the services listen, prints them, and closes them first', async () => {
    const { edge, seen } = recordingEdge();
    const printed: string[] = [];
    const running = await runProcess({ mode: 'standalone', services: [widgetService], edges: [edge], print: (line) => printed.push(line) });
    const [widgets] = running.services;
    expect(seen.upstreams).toEqual({ widgets: widgets.grpcAddress });
    expect(running.edges).toEqual([{ name: 'recorder', address: 'http://127.0.0.1:1' }]);
    expect(printed).toContain(`  ${'recorder'.padEnd(12)} http://127.0.0.1:1`);

    await running.stop();
    expect(seen.upstreamsUpAtClose).toEqual([true]);
    expect(await listening(widgets.grpcAddress)).toBe(false);
  });

  it('needs NATS in distributed mode even when it hosts only edges, which follow revocations from it, and says so', async () => {
    Object.assign(process.env, { TRELLIS_MODE: 'distributed', TRELLIS_NATS_URL: 'nats://127.0.0.1:1' });
    const { edge, seen } = recordingEdge();
    await expect(runProcess({ mode: 'distributed', services: [], edges: [edge], print: () => undefined })).rejects.toThrow(
      'cannot reach NATS at nats://127.0.0.1:1: CONNECTION_REFUSED; check that it runs there, or set nats.url (TRELLIS_NATS_URL) to where it does',
    );
    expect(seen.upstreams).toBeUndefined();
  });

  it('still requires a key set in distributed mode for a process hosting a service other than governance', async () => {
    Object.assign(process.env, { TRELLIS_MODE: 'distributed' });
    await expect(runProcess({ mode: 'distributed', services: [widgetService], edges: [], print: () => undefined })).rejects.toThrow(
      'auth.jwksUrl (TRELLIS_AUTH_JWKS_URL) must point at',
    );
  });
});

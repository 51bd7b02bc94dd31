import { once } from 'node:events';
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { drainable, type Drain } from './http-drain';

/** GET `/` on `port` through `agent`: the status and Connection header, or the error's code. */
function get(port: number, agent: Agent): Promise<{ status: number; connection?: string } | { error: string }> {
  return new Promise((resolve) => {
    const outgoing = request({ host: '127.0.0.1', port, path: '/', agent }, (response) => {
      response.resume();
      response.once('end', () => resolve({ status: response.statusCode!, connection: response.headers.connection }));
    });
    outgoing.once('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    outgoing.end();
  });
}

describe('drainable', () => {
  let server: Server;
  let drain: Drain;
  let port: number;
  /** Requests the handler holds until the spec releases them. */
  const held: Array<() => void> = [];

  beforeEach(async () => {
    server = createServer((req, res) => {
      if (req.url === '/slow') held.push(() => res.end('late'));
      else res.end('ok');
    });
    drain = drainable(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });

  afterEach(() => server.closeAllConnections());

  it('answers a request a client sends on its keep-alive connection while draining, telling it to leave', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    expect(await get(port, agent)).toEqual({ status: 200, connection: 'keep-alive' });
    const drained = drain({ idleMs: 5000 });
    // The next request on the connection is answered, saying to leave; a new connection would go to another replica.
    expect(await get(port, agent)).toEqual({ status: 200, connection: 'close' });
    await drained;
    expect(server.listening).toBe(false);
    agent.destroy();
  });

  it('refuses new connections at once, and closes an open one once it has been idle for idleMs', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    await get(port, agent);
    const [socket] = Object.values(agent.freeSockets).flat();
    const closedAt = once(socket!, 'close').then(() => Date.now());
    const startedAt = Date.now();
    const drained = drain({ idleMs: 300 });
    expect(await get(port, new Agent())).toEqual({ error: 'ECONNREFUSED' });
    await drained;
    expect((await closedAt) - startedAt).toBeGreaterThanOrEqual(250);
    expect(server.listening).toBe(false);
    agent.destroy();
  });

  it('lets a request in flight finish within drainMs, and cuts one that takes longer', async () => {
    const agent = new Agent({ keepAlive: true });
    const slow = new Promise<string>((resolve) => {
      request({ host: '127.0.0.1', port, path: '/slow', agent }, (response) => {
        response.setEncoding('utf8');
        let body = '';
        response.on('data', (chunk: string) => (body += chunk));
        response.once('end', () => resolve(body));
      })
        .once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'))
        .end();
    });
    while (held.length === 0) await new Promise((resolve) => setImmediate(resolve));
    const drained = drain({ idleMs: 50, drainMs: 60_000 });
    held.shift()!();
    expect(await slow).toBe('late');
    await drained;

    const again = createServer((req) => held.push(() => req.socket.destroy()));
    const drainAgain = drainable(again);
    again.listen(0, '127.0.0.1');
    await once(again, 'listening');
    const cut = get((again.address() as AddressInfo).port, new Agent());
    while (held.length === 0) await new Promise((resolve) => setImmediate(resolve));
    await drainAgain({ drainMs: 100 });
    expect(await cut).toEqual({ error: 'ECONNRESET' });
    agent.destroy();
  });
});

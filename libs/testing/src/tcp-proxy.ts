import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

/** A local TCP proxy in front of a real server, whose link a test can cut and restore. */
export interface TcpProxy {
  /** `127.0.0.1`. */
  host: string;
  /** The proxy's port: point the client here instead of at the server. */
  port: number;
  /** `<scheme>://127.0.0.1:<port>`, e.g. `url('nats')`. */
  url(scheme: string): string;
  /** Drops every open connection and refuses new ones, as an unreachable server would. */
  block(): void;
  /** Forwards new connections to the server again. */
  unblock(): void;
  close(): Promise<void>;
}

/**
 * Starts a proxy on a free port of 127.0.0.1 that forwards to `target` (a URL such as
 * `nats://127.0.0.1:4222`, or host and port). For tests of what a client does while its server is
 * unreachable, without stopping a server other tests share.
 */
export async function startTcpProxy(target: string | { host: string; port: number }): Promise<TcpProxy> {
  const { host, port } = typeof target === 'string' ? hostAndPort(target) : target;
  const sockets = new Set<Socket>();
  let blocked = false;
  const server = createServer((client) => {
    if (blocked) {
      client.destroy();
      return;
    }
    const upstream = connect({ host, port });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const ownPort = (server.address() as AddressInfo).port;
  return {
    host: '127.0.0.1',
    port: ownPort,
    url: (scheme) => `${scheme}://127.0.0.1:${ownPort}`,
    block: () => {
      blocked = true;
      for (const socket of sockets) socket.destroy();
    },
    unblock: () => {
      blocked = false;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function hostAndPort(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  if (!parsed.port) throw new Error(`${url} names no port`);
  return { host: parsed.hostname, port: Number(parsed.port) };
}

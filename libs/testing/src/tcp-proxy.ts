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
  /**
   * Sends new connections to `targets` from now on, in turn from the first (as a Kubernetes Service sends them to
   * its ready endpoints); open connections stay where they are until either side closes them.
   */
  route(targets: Array<string | HostAndPort>): void;
  close(): Promise<void>;
}

export interface HostAndPort {
  host: string;
  port: number;
}

/**
 * Starts a proxy on a free port of 127.0.0.1 that forwards to `target` (a URL such as
 * `nats://127.0.0.1:4222`, `host:port`, or host and port). For tests of what a client does while its server is
 * unreachable, without stopping a server other tests share, or while its server is replaced.
 */
export async function startTcpProxy(target: string | HostAndPort): Promise<TcpProxy> {
  let targets = [toHostAndPort(target)];
  let next = 0;
  const sockets = new Set<Socket>();
  let blocked = false;
  const server = createServer((client) => {
    if (blocked) {
      client.destroy();
      return;
    }
    const upstream = connect(targets[next++ % targets.length]);
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
    route: (to) => {
      if (to.length === 0) throw new Error('route needs at least one target; block() refuses connections');
      targets = to.map(toHostAndPort);
      next = 0;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** `target` as host and port: a URL (`nats://host:port`), `host:port`, or already split. */
function toHostAndPort(target: string | HostAndPort): HostAndPort {
  if (typeof target !== 'string') return target;
  const parsed = new URL(target.includes('://') ? target : `tcp://${target}`);
  if (!parsed.port) throw new Error(`${target} names no port`);
  return { host: parsed.hostname, port: Number(parsed.port) };
}

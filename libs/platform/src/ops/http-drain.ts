import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** What `drain` waits for before it cuts connections. */
export interface DrainOptions {
  /**
   * How long a keep-alive connection must have been idle before it is closed (default: the server's
   * `keepAliveTimeout`, which it advertises in `Keep-Alive: timeout=`: a client stops reusing a
   * connection before that, so none sends a request on one as it closes).
   */
  idleMs?: number;
  /** How long requests in flight may take before their connections are cut (default 10 s). */
  drainMs?: number;
}

/** Stops the HTTP/1.1 server given to `drainable` without failing a request a client sent it. */
export type Drain = (options?: DrainOptions) => Promise<void>;

/** How often `drain` looks for connections to close. */
const SWEEP_MS = 50;

/**
 * Follows `server`'s connections so that it can be stopped without failing a request: `server.close()`
 * closes idle keep-alive connections at once, and a client that reuses one at that moment (a busy
 * one always does) meets a closed socket instead of an answer. The drain returned answers every
 * request from then on with `Connection: close`, so clients leave their connections after one more
 * answer; it closes a connection only once no request is in flight on it and none came for
 * `idleMs` (by default as long as the server told clients they may keep one idle, so a client
 * never reuses a connection the drain is closing), and cuts what remains after `drainMs`. It
 * refuses new connections at once.
 */
export function drainable(server: Server): Drain {
  const connections = new Map<Socket, { inFlight: number; lastActiveAt: number }>();
  let draining = false;
  server.on('connection', (socket: Socket) => {
    connections.set(socket, { inFlight: 0, lastActiveAt: Date.now() });
    socket.once('close', () => connections.delete(socket));
  });
  // Before the server's own handler, so the header is set before it answers.
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    const connection = connections.get(req.socket);
    if (draining) res.setHeader('connection', 'close');
    if (!connection) return;
    connection.inFlight++;
    connection.lastActiveAt = Date.now();
    res.once('close', () => {
      connection.inFlight--;
      connection.lastActiveAt = Date.now();
    });
  });

  return async ({ idleMs = server.keepAliveTimeout || 5000, drainMs = 10_000 } = {}) => {
    if (!server.listening) return;
    draining = true;
    // net's close, not http's: it refuses new connections but leaves open ones be; it calls back once they are all gone.
    const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
    const deadline = Date.now() + drainMs;
    while (connections.size > 0 && Date.now() < deadline) {
      for (const [socket, { inFlight, lastActiveAt }] of connections) {
        if (inFlight === 0 && Date.now() - lastActiveAt >= idleMs) socket.destroy();
      }
      if (connections.size > 0) await sleep(SWEEP_MS);
    }
    server.closeAllConnections();
    await closed;
  };
}

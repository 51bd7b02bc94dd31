import { createServer, type AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';

/** A port of 127.0.0.1 that a server holds until `release()`: for specs of a port already in use. */
export async function occupiedPort(): Promise<{ port: number; release(): Promise<void> }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    release: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A port of 127.0.0.1 that nothing listens on (it was free a moment ago): for specs of a server out of reach. */
export async function closedPort(): Promise<number> {
  const { port, release } = await occupiedPort();
  await release();
  return port;
}

/** Ports `stablePort` has tried in this process. */
let stablePortsTried = 0;

/**
 * A free port of 127.0.0.1 below the kernel's range for ports handed out by binding 0
 * (ip_local_port_range), so no process started later is given it first: for a port a spec must
 * tell one program before another listens on it (serving's REST port, named to the gateway).
 */
export async function stablePort(): Promise<number> {
  const [firstEphemeral] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  const span = Math.max(firstEphemeral - 10_000, 1000);
  for (let tried = 0; tried < span; tried++) {
    const candidate = 10_000 + ((process.pid * 13 + 5000 + stablePortsTried++) % span);
    if (await canListen(candidate)) return candidate;
  }
  throw new Error(`no free port below ${firstEphemeral}`);
}

function canListen(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

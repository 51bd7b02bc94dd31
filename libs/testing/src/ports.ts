import { createServer, type AddressInfo } from 'node:net';

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

import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { startTcpProxy, type TcpProxy } from './tcp-proxy';

/** Sends `text` through a new connection to `port` and resolves with the reply, or with 'closed'. */
async function roundTrip(port: number, text: string): Promise<string> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  socket.write(text);
  return new Promise((resolve) => {
    socket.once('data', (data) => {
      resolve(data.toString());
      socket.destroy();
    });
    socket.once('close', () => resolve('closed'));
  });
}

describe('startTcpProxy', () => {
  let echo: Server;
  let proxy: TcpProxy;

  beforeEach(async () => {
    echo = createServer((socket) => socket.pipe(socket));
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    proxy = await startTcpProxy({ host: '127.0.0.1', port: (echo.address() as AddressInfo).port });
  });

  afterEach(async () => {
    await proxy.close();
    echo.close();
  });

  it('forwards a connection to the server and back', async () => {
    expect(await roundTrip(proxy.port, 'ping')).toBe('ping');
    expect(proxy.url('nats')).toBe(`nats://127.0.0.1:${proxy.port}`);
  });

  it('drops open connections and refuses new ones while blocked, and forwards again once unblocked', async () => {
    const open = connect({ host: '127.0.0.1', port: proxy.port });
    open.on('error', () => undefined);
    await once(open, 'connect');
    const dropped = once(open, 'close');

    proxy.block();

    await dropped;
    expect(await roundTrip(proxy.port, 'ping')).toBe('closed');
    proxy.unblock();
    expect(await roundTrip(proxy.port, 'ping')).toBe('ping');
  });

  it('sends new connections to the targets it is routed to, in turn, and leaves open ones where they are', async () => {
    const tagged = (tag: string) => createServer((socket) => socket.on('data', (data) => socket.write(`${tag}:${data}`))).listen(0, '127.0.0.1');
    const [blue, green] = [tagged('blue'), tagged('green')];
    await Promise.all([once(blue, 'listening'), once(green, 'listening')]);
    const at = (server: Server) => `127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const open = connect({ host: '127.0.0.1', port: proxy.port });
      await once(open, 'connect');

      proxy.route([at(blue), at(green)]);
      expect([await roundTrip(proxy.port, 'a'), await roundTrip(proxy.port, 'b'), await roundTrip(proxy.port, 'c')]).toEqual(['blue:a', 'green:b', 'blue:c']);
      open.write('still echo');
      const [reply] = (await once(open, 'data')) as [Buffer];
      expect(reply.toString()).toBe('still echo');
      open.destroy();
      expect(() => proxy.route([])).toThrow('at least one target');
    } finally {
      blue.close();
      green.close();
    }
  });
});

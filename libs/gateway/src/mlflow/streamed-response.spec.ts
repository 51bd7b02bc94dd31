import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RequestContext } from '../http/request-context';
import { sendStream } from './streamed-response';

/** sendStream behind a bare node:http server, read by a plain client. */
describe('a streamed response', () => {
  let server: Server;
  let url: string;
  let source: () => AsyncIterable<string>;
  let outcome: Promise<unknown>;
  let closed: boolean;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const ctx = new RequestContext(req, res, 'req-1', req.url ?? '/', {}, 1024, '');
      outcome = sendStream(ctx, 'application/json', '[', ']', source(), (item) => item).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(404).end('missing');
        else res.destroy();
        return error;
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  beforeEach(() => (closed = false));

  async function* items(count: number, failAfter = Infinity) {
    try {
      for (let i = 0; i < count; i++) {
        if (i === failAfter) throw new Error('upstream failed');
        yield i === 0 ? `${i}` : `,${i}`;
      }
    } finally {
      closed = true;
    }
  }

  it('writes the prefix, every item and the suffix', async () => {
    source = () => items(3);
    const response = await fetch(url);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual([0, 1, 2]);
    expect(await outcome).toBeUndefined();
  });

  it('fails before the status line when the source fails before its first item', async () => {
    source = () => items(3, 0);
    const response = await fetch(url);
    expect(response.status).toBe(404);
    expect(await outcome).toMatchObject({ message: 'upstream failed' });
  });

  it('cuts the body when the source fails after the first item, so the client sees it incomplete', async () => {
    source = () => items(3, 2);
    await expect(fetch(url).then((response) => response.text())).rejects.toThrow();
    expect(await outcome).toMatchObject({ message: 'upstream failed' });
  });

  it('closes the source when the client goes away', async () => {
    source = async function* () {
      try {
        for (;;) yield 'x'.repeat(65536);
      } finally {
        closed = true;
      }
    };
    await new Promise<void>((resolve) => {
      const request = get(url, (response) => {
        response.once('data', () => {
          request.destroy();
          resolve();
        });
      });
    });
    expect(await outcome).toBeUndefined();
    expect(closed).toBe(true);
  });
});

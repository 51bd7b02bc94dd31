import type { ServerResponse } from 'node:http';
import type { RequestContext } from './request-context';

const NEWLINE = 0x0a;

/**
 * The lines of an NDJSON request body as they arrive, with their 1-based numbers; blank lines are
 * skipped. A line longer than the route's body limit is a 413, so one line never fills memory.
 */
export async function* ndjsonLines(ctx: RequestContext): AsyncGenerator<{ text: string; number: number }> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let number = 0;
  // Stopping early must not destroy the request: that would cut the socket the error answer goes out on.
  for await (const chunk of ctx.req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE, start); end >= 0; end = chunk.indexOf(NEWLINE, start)) {
      const piece = chunk.subarray(start, end);
      if (pendingBytes + piece.length > ctx.maxBodyBytes) throw ctx.tooLarge(`line ${number + 1} of the request body`);
      const text = (pendingBytes === 0 ? piece : Buffer.concat([...pending, piece])).toString('utf8');
      number += 1;
      pending = [];
      pendingBytes = 0;
      start = end + 1;
      if (text.trim() !== '') yield { text, number };
    }
    if (start < chunk.length) {
      pending.push(chunk.subarray(start));
      pendingBytes += chunk.length - start;
      if (pendingBytes > ctx.maxBodyBytes) throw ctx.tooLarge(`line ${number + 1} of the request body`);
    }
  }
  const last = Buffer.concat(pending).toString('utf8');
  if (last.trim() !== '') yield { text: last, number: number + 1 };
}

/**
 * Streams values as NDJSON, one JSON text per line, waiting for the client to read (backpressure).
 * The status line waits for the first value, so an error before it still answers with its own
 * HTTP status (it is thrown); an error after it becomes a last line `{"error": <errorBody>}`.
 * Stops quietly when the client goes away.
 */
export async function sendNdjson<T>(
  ctx: RequestContext,
  values: AsyncIterable<T>,
  toJson: (value: T) => unknown,
  errorBody: (error: unknown) => unknown,
): Promise<void> {
  const iterator = values[Symbol.asyncIterator]();
  let next = await iterator.next();
  const { res } = ctx;
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  try {
    for (; !next.done; next = await iterator.next()) {
      if (res.destroyed) break;
      if (!res.write(`${JSON.stringify(toJson(next.value))}\n`)) await drained(res);
    }
  } catch (error) {
    if (!res.destroyed) res.write(`${JSON.stringify({ error: errorBody(error) })}\n`);
  } finally {
    if (res.destroyed) await iterator.return?.().catch(() => undefined);
    else res.end();
  }
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

import type { ServerResponse } from 'node:http';
import type { RequestContext } from '../http/request-context';

/**
 * Answers 200 with a body streamed from `source`: `prefix`, each item as `render` writes it,
 * `suffix`, waiting for the client to take each piece (backpressure). The status line waits for
 * the first item, so an upstream error before it (a missing run) still answers with its own status;
 * one after it is thrown with the response started, and the gateway cuts the connection, so the
 * client sees a truncated body rather than a complete, short one. Stops reading `source` when the
 * client goes away.
 */
export async function sendStream<T>(
  ctx: RequestContext,
  contentType: string,
  prefix: string,
  suffix: string,
  source: AsyncIterable<T>,
  render: (item: T) => string | Uint8Array,
): Promise<void> {
  const items = source[Symbol.asyncIterator]();
  let next = await items.next();
  const { res } = ctx;
  res.writeHead(200, { 'content-type': contentType });
  let finished = false;
  try {
    if (prefix) res.write(prefix);
    for (; !next.done; next = await items.next()) {
      if (res.destroyed) return;
      const piece = render(next.value);
      if (piece.length > 0 && !res.write(piece)) await drained(res);
    }
    finished = true;
    res.end(suffix);
  } finally {
    if (!finished) await items.return?.().catch(() => undefined);
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

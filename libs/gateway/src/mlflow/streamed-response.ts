import { pipeline } from 'node:stream/promises';
import type { RequestContext } from '../http/request-context';

/**
 * Answers `status` (200 unless given) with a body streamed from `source`: `prefix`, each item as `render` writes it,
 * `suffix`, as fast as the client takes it (backpressure). The status line waits for the first
 * item, so an upstream error before it (a missing run) still answers with its own status; one after
 * it is thrown with the response started, and the gateway cuts the connection, so the client sees a
 * truncated body rather than a complete, short one. When the client goes away, `source` is closed.
 */
export async function sendStream<T>(
  ctx: RequestContext,
  contentType: string,
  prefix: string,
  suffix: string,
  source: AsyncIterable<T>,
  render: (item: T) => string | Uint8Array,
  status = 200,
): Promise<void> {
  const items = source[Symbol.asyncIterator]();
  const first = await items.next();
  ctx.res.writeHead(status, { 'content-type': contentType });
  async function* body() {
    try {
      if (prefix) yield prefix;
      for (let next = first; !next.done; next = await items.next()) {
        const piece = render(next.value);
        if (piece.length > 0) yield piece;
      }
      if (suffix) yield suffix;
    } finally {
      await items.return?.();
    }
  }
  try {
    await pipeline(body(), ctx.res);
  } catch (error) {
    // The client went away: nothing to answer, and nothing went wrong here.
    if ((error as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE') return;
    throw error;
  }
}

/** Streams a file as MLflow's server sends one for its UI: an attachment named for the file, never sniffed into a page. */
export async function sendAttachment<T>(ctx: RequestContext, path: string, source: AsyncIterable<T>, render: (item: T) => Uint8Array): Promise<void> {
  ctx.res.setHeader('content-disposition', `attachment; filename="${encodeURIComponent(path.slice(path.lastIndexOf('/') + 1))}"`);
  ctx.res.setHeader('x-content-type-options', 'nosniff');
  await sendStream(ctx, 'application/octet-stream', '', '', source, render);
}

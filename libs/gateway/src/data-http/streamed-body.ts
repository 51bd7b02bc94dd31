import type { RequestContext } from '../http/request-context';

/** The body's chunks as they arrive, after `first`, without holding them: the call's backpressure stops the reads. */
export async function* bodyAfter<T>(ctx: RequestContext, first: T, chunk: (bytes: Uint8Array) => T): AsyncGenerator<T> {
  yield first;
  for await (const bytes of ctx.req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) yield chunk(bytes);
}

/** A failed upload leaves the rest of the body unread, so the connection closes after the answer. */
export async function streamingUpload<T>(ctx: RequestContext, upload: () => Promise<T>): Promise<T> {
  try {
    return await upload();
  } catch (error) {
    if (!ctx.req.complete) ctx.res.setHeader('connection', 'close');
    throw error;
  }
}

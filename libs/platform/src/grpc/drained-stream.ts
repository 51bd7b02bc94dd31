import { once } from 'node:events';
import { Observable } from 'rxjs';

/** What a server-streaming handler gets as its third argument: the call, a writable stream. */
export interface DrainableCall extends NodeJS.EventEmitter {
  readonly writableNeedDrain: boolean;
}

/**
 * The Observable a server-streaming handler returns, fed from `produce`: each message it yields is
 * sent, and the next one is asked for only once `call` has drained, so a slow client makes the
 * server hold about one message, not the whole answer (Nest would queue everything sent). When
 * the client cancels, `signal` aborts and nothing more is read; `produce` should stop its reads
 * (and close what it opened) then.
 */
export function drainedStream<T>(call: DrainableCall | undefined, produce: (signal: AbortSignal) => AsyncIterable<T>): Observable<T> {
  return new Observable<T>((subscriber) => {
    const stop = new AbortController();
    const run = async () => {
      for await (const message of produce(stop.signal)) {
        if (stop.signal.aborted) return;
        subscriber.next(message);
        while (call?.writableNeedDrain && !stop.signal.aborted) await once(call, 'drain', { signal: stop.signal });
      }
      subscriber.complete();
    };
    run().catch((error: unknown) => {
      if (!stop.signal.aborted) subscriber.error(error);
    });
    return () => stop.abort();
  });
}

/** A byte stream cut into chunks of exactly `size` bytes (the last one shorter; one empty chunk for an empty stream). */
export async function* chunksOf(source: AsyncIterable<Uint8Array | string>, size: number): AsyncGenerator<Buffer> {
  let pending = Buffer.alloc(0);
  let sent = false;
  for await (const piece of source) {
    pending = pending.length === 0 ? Buffer.from(piece) : Buffer.concat([pending, Buffer.from(piece)]);
    while (pending.length >= size) {
      yield pending.subarray(0, size);
      sent = true;
      pending = pending.subarray(size);
    }
  }
  if (pending.length > 0 || !sent) yield pending;
}

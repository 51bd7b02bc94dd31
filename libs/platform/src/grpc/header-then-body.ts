import { InvalidArgumentError } from '../errors';
import { PassThrough, type Readable } from 'node:stream';
import { Observable } from 'rxjs';

/** How many bytes of a body wait for its reader before the call is paused. */
const BODY_BUFFER_BYTES = 4 * 1024 * 1024;

/** The part of a grpc-js client stream an upload pauses while the store is behind. */
export interface PausableCall {
  pause(): void;
  resume(): void;
}

/** A client-streaming request: a header first, then chunks of bytes. */
export interface HeaderOrChunk<Header> {
  part: { case: 'header'; value: Header } | { case: 'chunk'; value: Uint8Array } | { case: undefined; value?: undefined };
}

/**
 * Turns a client stream of a header and then chunks into `start(header, body)`, the chunks fed to
 * `body` with backpressure: the call is paused while `body` is full. A stream without a header
 * first, or with a second one, fails naming `header`; when `start` fails, `body` is destroyed with
 * an error. Nest ends the request stream of a call the client cancelled as if it were complete, so
 * `start` must check that the bytes are all there (an announced size or digest).
 */
export function headerThenBody<Header, Response>(
  requests: Observable<HeaderOrChunk<Header>>,
  call: PausableCall | undefined,
  start: (header: Header, body: Readable) => Promise<Response>,
): Observable<Response> {
  return new Observable<Response>((subscriber) => {
    // Room for a few messages: the call keeps receiving while the store writes, and pauses only when the store is really behind.
    const body = new PassThrough({ highWaterMark: BODY_BUFFER_BYTES });
    // A reader that is still to come, or gave up, learns of the failure from the call, not this event.
    body.on('error', () => undefined);
    let started: Promise<void> | undefined;
    // The reader of `body` must see a failed stream, never a short one that looks complete.
    const fail = (error: unknown) => {
      body.destroy(error instanceof Error ? error : new Error(String(error)));
      subscriber.error(error);
    };
    const subscription = requests.subscribe({
      next: (request) => {
        if (!started) {
          if (request.part.case !== 'header') return fail(new InvalidArgumentError('the first message must be the header', 'header'));
          started = start(request.part.value, body).then((response) => {
            subscriber.next(response);
            subscriber.complete();
          }, fail);
          return;
        }
        if (request.part.case !== 'chunk') return fail(new InvalidArgumentError('only the first message may be a header', 'header'));
        // Nest feeds the request stream without backpressure: pause the call itself until the store catches up.
        if (!body.write(request.part.value) && call) {
          call.pause();
          body.once('drain', () => call.resume());
        }
      },
      error: fail,
      complete: () => {
        if (!started) return fail(new InvalidArgumentError('the stream sent no header', 'header'));
        body.end();
      },
    });
    return () => subscription.unsubscribe();
  });
}

import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { chunksOf, drainedStream } from './drained-stream';

class SlowCall extends EventEmitter {
  writableNeedDrain = true;
}

describe('drainedStream', () => {
  it('asks for the next message only once the call has drained the last', async () => {
    const call = new SlowCall();
    const asked: number[] = [];
    const sent: number[] = [];
    drainedStream(call, async function* () {
      for (let i = 0; i < 3; i++) {
        asked.push(i);
        yield i;
      }
    }).subscribe((value) => sent.push(value));
    await new Promise((resolve) => setImmediate(resolve));
    expect(asked).toEqual([0]);
    expect(sent).toEqual([0]);
    call.writableNeedDrain = false;
    call.emit('drain');
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toEqual([0, 1, 2]);
  });

  it('stops reading when the client cancels, and aborts the producer', async () => {
    const call = new SlowCall();
    const asked: number[] = [];
    let aborted = false;
    const subscription = drainedStream(call, async function* (signal) {
      signal.addEventListener('abort', () => (aborted = true));
      for (let i = 0; i < 3; i++) {
        asked.push(i);
        yield i;
      }
    }).subscribe();
    await new Promise((resolve) => setImmediate(resolve));
    subscription.unsubscribe();
    call.writableNeedDrain = false;
    call.emit('drain');
    await new Promise((resolve) => setImmediate(resolve));
    expect(aborted).toBe(true);
    expect(asked).toEqual([0]);
  });

  it('passes an error of the producer to the client', async () => {
    const failure = await new Promise<unknown>((resolve) =>
      drainedStream(undefined, async function* () {
        yield 1;
        throw new Error('store failed');
      }).subscribe({ error: resolve }),
    );
    expect(failure).toEqual(new Error('store failed'));
  });
});

describe('chunksOf', () => {
  const collect = async (pieces: string[], size: number) => {
    const out: string[] = [];
    for await (const chunk of chunksOf(Readable.from(pieces.map((piece) => Buffer.from(piece))), size)) out.push(chunk.toString());
    return out;
  };

  it('cuts a byte stream into chunks of the size asked, the last one shorter', async () => {
    expect(await collect(['abcde', 'fg', 'hijklmn'], 4)).toEqual(['abcd', 'efgh', 'ijkl', 'mn']);
  });

  it('sends one empty chunk for an empty stream, so the client sees an empty file', async () => {
    expect(await collect([], 4)).toEqual(['']);
  });
});

import { createHash } from 'node:crypto';
import type { ObjectBody } from '@trellis/plugin-sdk';
import { ByteQueue } from './byte-queue';
import { sealChunk, segmentKey } from './cipher';
import { CHUNK_SIZE, type SegmentHeader } from './format';

/** Size and SHA-256 of the plaintext a segment was sealed from, complete once sealing ends. */
export class PlainTally {
  size = 0;
  private readonly hash = createHash('sha256');

  add(bytes: Buffer): void {
    this.size += bytes.length;
    this.hash.update(bytes);
  }

  /** The SHA-256, lowercase hex; call once, after sealing ended. */
  sha256(): string {
    return this.hash.digest('hex');
  }
}

/**
 * Seals `body` into one segment: the header, then chunks of CHUNK_SIZE, the last flagged final.
 * Reads `body` only as the result is read, holding at most about two chunks, so an object of any
 * size streams through; an error of `body` ends the result with that error.
 */
export async function* sealSegment(body: ObjectBody, dataKey: Uint8Array, header: SegmentHeader, tally: PlainTally): AsyncGenerator<Buffer> {
  const key = segmentKey(dataKey, header);
  yield header.bytes;
  const queue = new ByteQueue();
  let held: Buffer | undefined; // a full chunk, sealed once it is known whether more follows
  let index = 0;
  for await (const piece of body instanceof Uint8Array ? [body] : (body as AsyncIterable<Uint8Array | string>)) {
    const bytes = typeof piece === 'string' ? Buffer.from(piece) : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    tally.add(bytes);
    queue.push(bytes);
    while (queue.length >= CHUNK_SIZE) {
      if (held) yield sealChunk(key, index++, false, held);
      held = Buffer.from(queue.take(CHUNK_SIZE));
    }
  }
  if (queue.length > 0 && held) yield sealChunk(key, index++, false, held);
  yield sealChunk(key, index, true, queue.length > 0 ? queue.take(queue.length) : (held ?? Buffer.alloc(0)));
}


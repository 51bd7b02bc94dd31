import { Transform, type TransformCallback } from 'node:stream';
import { ObjectIntegrityError } from '@trellis/plugin-sdk';
import { ByteQueue } from './byte-queue';
import { openChunk, segmentKey } from './cipher';
import { HEADER_LENGTH, isEnvelope, MAGIC, parseHeader, SEALED_CHUNK_SIZE, type SegmentHeader, TAG_LENGTH } from './format';
import type { Step } from './layout';

/**
 * How to read a body once its first header is known: its data key, and either the steps it
 * consists of or 'to-end' (one segment whose chunks run to the end of the stream).
 */
export interface Opening {
  dataKey: Uint8Array;
  header: SegmentHeader;
  steps: Iterable<Step> | 'to-end';
}

/** Where an OpeningStream starts: at a body's first byte (`open` is asked once the header is read) or at a planned range. */
export type OpeningStart = { open: (header: SegmentHeader) => Promise<Opening> } | { opening: Opening };

/**
 * Decrypts a stored body as it streams, verifying every chunk before passing its plaintext on. A
 * body that is not encrypted passes through unchanged (when reading from its start). Any altered,
 * reordered, missing or extra byte ends the stream with `ObjectIntegrityError`, so a reader never
 * takes a partial or altered plaintext for the whole.
 *
 * `ready` settles once the first chunk verified (or the body ended, or is found unencrypted), so a
 * caller can fail a read before handing the stream on.
 */
export class OpeningStream extends Transform {
  readonly ready: Promise<void>;
  private readonly queue = new ByteQueue();
  private mode: 'detect' | 'plain' | 'to-end' | 'steps' = 'detect';
  private dataKey?: Uint8Array;
  private key?: Buffer;
  private objectId?: Buffer;
  private steps?: Iterator<Step>;
  private step?: Step;
  private chunkIndex = 0;
  private settled = false;
  private resolveReady!: () => void;
  private rejectReady!: (err: Error) => void;

  constructor(
    private readonly objectKey: string,
    private readonly start: OpeningStart,
  ) {
    super();
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => undefined); // also surfaces as the stream's error
    if ('opening' in start) this.begin(start.opening);
  }

  override _transform(chunk: Buffer | string, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.queue.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    this.advance(false).then(() => callback(), callback);
  }

  override _flush(callback: TransformCallback): void {
    this.advance(true).then(() => callback(), callback);
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.settled) this.rejectReady(err ?? new Error(`reading object ${JSON.stringify(this.objectKey)} was abandoned`));
    this.settled = true;
    this.key?.fill(0);
    this.dataKey?.fill(0);
    callback(err);
  }

  private async advance(ended: boolean): Promise<void> {
    if (this.mode === 'detect') await this.detect(ended);
    if (this.mode === 'plain') {
      if (this.queue.length > 0) this.push(this.queue.take(this.queue.length));
      this.markReady();
    } else if (this.mode === 'to-end') {
      this.toEnd(ended);
    } else if (this.mode === 'steps') {
      this.followSteps(ended);
    }
  }

  private async detect(ended: boolean): Promise<void> {
    const known = this.queue.length >= HEADER_LENGTH || (this.queue.length >= MAGIC.length && !isEnvelope(this.queue.peek(MAGIC.length)));
    if (!known && !ended) return;
    if (!isEnvelope(this.queue.peek(HEADER_LENGTH))) {
      this.mode = 'plain';
      return;
    }
    const header = parseHeader(Buffer.from(this.queue.take(HEADER_LENGTH)));
    if (typeof header === 'string') throw this.integrity(header);
    this.begin(await (this.start as { open: (header: SegmentHeader) => Promise<Opening> }).open(header));
  }

  private begin(opening: Opening): void {
    this.dataKey = opening.dataKey;
    this.objectId = opening.header.objectId;
    this.key = segmentKey(opening.dataKey, opening.header);
    if (opening.steps === 'to-end') {
      this.mode = 'to-end';
    } else {
      this.mode = 'steps';
      this.steps = opening.steps[Symbol.iterator]();
    }
  }

  /** One segment to the end of the stream: a chunk is known not to be the last once more bytes follow it. */
  private toEnd(ended: boolean): void {
    while (this.queue.length > SEALED_CHUNK_SIZE) this.openNext(this.chunkIndex++, false, 'chunk');
    if (!ended) return;
    if (this.queue.length < TAG_LENGTH) throw this.integrity(`it ends inside chunk ${this.chunkIndex}`);
    this.openNext(this.chunkIndex, true, 'chunk');
    this.markReady();
  }

  private openNext(index: number, final: boolean, name: string, length = this.queue.length, keep?: [number, number]): void {
    const sealed = this.queue.take(Math.min(length, SEALED_CHUNK_SIZE));
    const plain = openChunk(this.key as Buffer, index, final, sealed);
    if (!plain) throw this.integrity(`${name} ${index} does not verify`);
    this.push(keep ? plain.subarray(keep[0], keep[1]) : plain);
    this.markReady();
  }

  private followSteps(ended: boolean): void {
    for (;;) {
      if (!this.step) {
        const next = (this.steps as Iterator<Step>).next();
        if (next.done) {
          if (this.queue.length > 0) throw this.integrity('it has bytes after its last chunk');
          if (ended) this.markReady();
          return;
        }
        this.step = next.value;
      }
      const step = this.step;
      const need = step.type === 'header' ? HEADER_LENGTH : step.sealedLength;
      if (this.queue.length < need) {
        if (ended) throw this.integrity(step.type === 'header' ? `it ends before the header of part ${step.partNumber}` : `it ends inside chunk ${step.index} of part ${step.partNumber}`);
        return;
      }
      if (step.type === 'header') {
        const header = parseHeader(Buffer.from(this.queue.take(HEADER_LENGTH)));
        if (typeof header === 'string') throw this.integrity(header);
        if (!header.objectId.equals(this.objectId as Buffer) || header.partNumber !== step.partNumber) {
          throw this.integrity(`the segment where part ${step.partNumber} belongs holds part ${header.partNumber} of ${header.objectId.equals(this.objectId as Buffer) ? 'this' : 'another'} object`);
        }
        this.key?.fill(0);
        this.key = segmentKey(this.dataKey as Uint8Array, header);
      } else {
        this.openNext(step.index, step.final, `part ${step.partNumber} chunk`, need, [step.keepFrom, step.keepTo]);
      }
      this.step = undefined;
    }
  }

  private markReady(): void {
    if (this.settled) return;
    this.settled = true;
    this.resolveReady();
  }

  private integrity(detail: string): ObjectIntegrityError {
    return new ObjectIntegrityError(this.objectKey, detail);
  }
}

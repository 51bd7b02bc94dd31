import { InvalidArgumentError } from '@trellis/platform';
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** What an upload's bytes must be. */
export interface ExpectedBlob {
  sha256: string;
  size: number;
}

/** The error of bytes whose digest is not the one announced: nothing is stored. */
export function digestMismatch(expected: string, actual: string): InvalidArgumentError {
  return new InvalidArgumentError(`the bytes' sha256 is ${actual.slice(0, 12)}..., not ${expected.slice(0, 12)}... as announced; nothing was stored`, 'sha256', { reason: 'DIGEST_MISMATCH' });
}

/** The error of bytes whose count is not the size announced: nothing is stored. */
export function sizeMismatch(expected: number, actual: number | 'more'): InvalidArgumentError {
  const got = actual === 'more' ? `more than ${expected}` : String(actual);
  return new InvalidArgumentError(`the upload holds ${got} bytes, not ${expected} as announced; nothing was stored`, 'size', { reason: 'SIZE_MISMATCH' });
}

/**
 * Passes bytes through while hashing them, and fails the stream (so that a storage `put` reading
 * it stores nothing) as soon as there are more bytes than announced, or at the end when their
 * count or SHA-256 differs. `failure` keeps the error, which a store may report as its own.
 */
export class DigestCheck extends Transform {
  /** The mismatch that failed the stream, if one did. */
  failure: InvalidArgumentError | undefined;
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;

  constructor(private readonly expected: ExpectedBlob) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.expected.size) return done((this.failure = sizeMismatch(this.expected.size, 'more')));
    this.hash.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.bytes !== this.expected.size) return done((this.failure = sizeMismatch(this.expected.size, this.bytes)));
    const actual = this.hash.digest('hex');
    if (actual !== this.expected.sha256) return done((this.failure = digestMismatch(this.expected.sha256, actual)));
    done();
  }
}

/** Bytes received but not yet used, taken from the front in pieces of a chosen size. */
export class ByteQueue {
  private pieces: Buffer[] = [];
  private total = 0;

  get length(): number {
    return this.total;
  }

  push(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.pieces.push(bytes);
    this.total += bytes.length;
  }

  /** The first `n` bytes (at most `length`), removed from the queue. */
  take(n: number): Buffer {
    const out = this.peek(n);
    let left = out.length;
    while (left > 0) {
      const first = this.pieces[0];
      if (first.length <= left) {
        this.pieces.shift();
        left -= first.length;
      } else {
        this.pieces[0] = first.subarray(left);
        left = 0;
      }
    }
    this.total -= out.length;
    return out;
  }

  /** The first `n` bytes (at most `length`), left in the queue. */
  peek(n: number): Buffer {
    const size = Math.min(n, this.total);
    if (this.pieces.length > 0 && this.pieces[0].length >= size) return this.pieces[0].subarray(0, size);
    const whole = Buffer.concat(this.pieces, this.total);
    this.pieces = [whole];
    return whole.subarray(0, size);
  }
}

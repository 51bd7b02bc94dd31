const TWO_TO_32 = 0x1_0000_0000;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const FLOAT32_MAX = 3.4028234663852886e38;
/** Strings up to this many UTF-16 units are tried as ASCII in JavaScript; a native call costs more. */
const SHORT_STRING = 64;

/**
 * A 64-bit integer as protobuf-es accepts one: a bigint, a decimal string (what a field declared
 * `jstype = JS_STRING` holds), or an integer number (exact up to 2^53, as the database returns them).
 */
export type Int64Value = bigint | number | string;

/**
 * Protobuf's binary format written into one growing buffer: the primitive writes that compiled
 * message writers call. Nested messages and packed lists reserve one byte for their length and
 * move their bytes only when the length needs more, so small messages are never copied.
 */
export class WireBuffer {
  private bytes: Buffer;
  private at = 0;

  /** Starts with room for `expectedBytes`: growing means copying what was written. */
  constructor(expectedBytes: number) {
    this.bytes = Buffer.allocUnsafe(Math.max(expectedBytes, 64));
  }

  /** The bytes written so far: a view of the buffer, valid until the next write. */
  finish(): Uint8Array {
    return this.bytes.subarray(0, this.at);
  }

  /** A tag (field number and wire type, as one precomputed number). */
  tag(tag: number): void {
    this.reserve(5);
    this.varint32(tag);
  }

  /** Starts a length-delimited value whose length is not known yet; returns where it starts, for join(). */
  fork(): number {
    this.reserve(1);
    return this.at++;
  }

  /** Ends the length-delimited value that fork() started at `start`, writing its length in front. */
  join(start: number): void {
    const length = this.at - start - 1;
    if (length < 0x80) {
      this.bytes[start] = length;
      return;
    }
    const extra = varintLength(length) - 1;
    this.reserve(extra);
    this.bytes.copyWithin(start + 1 + extra, start + 1, this.at);
    const end = this.at + extra;
    this.at = start;
    this.varint(length);
    this.at = end;
  }

  /** A string as UTF-8 after its length; lone surrogates become U+FFFD, as TextEncoder writes them. */
  string(value: string): void {
    const units = value.length;
    if (units <= SHORT_STRING) {
      this.reserve(1 + units);
      const bytes = this.bytes;
      const start = this.at;
      let at = start + 1;
      for (let i = 0; i < units; i++) {
        const unit = value.charCodeAt(i);
        if (unit >= 0x80) {
          at = -1;
          break;
        }
        bytes[at++] = unit;
      }
      if (at >= 0) {
        bytes[start] = units;
        this.at = at;
        return;
      }
    }
    const length = Buffer.byteLength(value, 'utf8');
    this.reserve(10 + length);
    this.varint(length);
    this.at += this.bytes.write(value, this.at, 'utf8');
  }

  /** Bytes after their length. */
  bytesField(value: Uint8Array): void {
    this.reserve(10 + value.byteLength);
    this.varint(value.byteLength);
    this.bytes.set(value, this.at);
    this.at += value.byteLength;
  }

  /** Bytes as they are, e.g. an unknown field's data. */
  raw(value: Uint8Array): void {
    this.reserve(value.byteLength);
    this.bytes.set(value, this.at);
    this.at += value.byteLength;
  }

  bool(value: boolean): void {
    this.reserve(1);
    this.bytes[this.at++] = value ? 1 : 0;
  }

  double(value: number): void {
    this.reserve(8);
    this.at = this.bytes.writeDoubleLE(value, this.at);
  }

  float(value: number): void {
    if (typeof value !== 'number' || (Number.isFinite(value) && Math.abs(value) > FLOAT32_MAX)) throw new Error(`invalid float32: ${value}`);
    this.reserve(4);
    this.at = this.bytes.writeFloatLE(value, this.at);
  }

  int32(value: number): void {
    checkInt32(value);
    this.reserve(10);
    if (value >= 0) this.varint32(value);
    else this.varint64(value >>> 0, 0xffffffff);
  }

  uint32(value: number): void {
    checkUint32(value);
    this.reserve(5);
    this.varint32(value);
  }

  sint32(value: number): void {
    checkInt32(value);
    this.reserve(5);
    this.varint32(((value << 1) ^ (value >> 31)) >>> 0);
  }

  fixed32(value: number): void {
    checkUint32(value);
    this.reserve(4);
    this.at = this.bytes.writeUInt32LE(value, this.at);
  }

  sfixed32(value: number): void {
    checkInt32(value);
    this.reserve(4);
    this.at = this.bytes.writeInt32LE(value, this.at);
  }

  int64(value: Int64Value): void {
    this.reserve(10);
    if (typeof value === 'number' && value >= 0 && Number.isSafeInteger(value)) {
      this.varint(value);
      return;
    }
    const [low, high] = int64Halves(value, false);
    this.varint64(low, high);
  }

  uint64(value: Int64Value): void {
    this.reserve(10);
    if (typeof value === 'number' && value >= 0 && Number.isSafeInteger(value)) {
      this.varint(value);
      return;
    }
    const [low, high] = int64Halves(value, true);
    this.varint64(low, high);
  }

  sint64(value: Int64Value): void {
    this.reserve(10);
    const [low, high] = int64Halves(value, false);
    const sign = high >> 31;
    this.varint64(((low << 1) ^ sign) >>> 0, (((high << 1) | (low >>> 31)) ^ sign) >>> 0);
  }

  fixed64(value: Int64Value): void {
    this.reserve(8);
    const [low, high] = int64Halves(value, true);
    this.bytes.writeUInt32LE(low, this.at);
    this.at = this.bytes.writeUInt32LE(high, this.at + 4);
  }

  sfixed64(value: Int64Value): void {
    this.reserve(8);
    const [low, high] = int64Halves(value, false);
    this.bytes.writeUInt32LE(low, this.at);
    this.at = this.bytes.writeUInt32LE(high, this.at + 4);
  }

  /** Room for `count` more bytes. */
  private reserve(count: number): void {
    if (this.at + count <= this.bytes.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.at + count));
    this.bytes.copy(bigger, 0, 0, this.at);
    this.bytes = bigger;
  }

  /** A varint of an unsigned 32-bit integer; room reserved by the caller. */
  private varint32(value: number): void {
    const bytes = this.bytes;
    let at = this.at;
    while (value > 0x7f) {
      bytes[at++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    bytes[at++] = value;
    this.at = at;
  }

  /** A varint of a non-negative safe integer; room reserved by the caller. */
  private varint(value: number): void {
    if (value < TWO_TO_32) {
      this.varint32(value >>> 0);
      return;
    }
    this.varint64(value >>> 0, Math.floor(value / TWO_TO_32));
  }

  /** A varint of the 64 bits `high:low` (each an unsigned 32-bit integer); room reserved by the caller. */
  private varint64(low: number, high: number): void {
    const bytes = this.bytes;
    let at = this.at;
    while (high !== 0) {
      bytes[at++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    while (low > 0x7f) {
      bytes[at++] = (low & 0x7f) | 0x80;
      low >>>= 7;
    }
    bytes[at++] = low;
    this.at = at;
  }
}

/** Bytes of the varint of a non-negative safe integer. */
function varintLength(value: number): number {
  let length = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    length++;
  }
  return length;
}

/** The low and high 32 bits (unsigned) of a 64-bit integer in two's complement; throws outside the type's range. */
function int64Halves(value: Int64Value, unsigned: boolean): [number, number] {
  if (typeof value === 'number' && Number.isSafeInteger(value) && (value >= 0 || !unsigned)) {
    return [value >>> 0, Math.floor(value / TWO_TO_32) >>> 0];
  }
  let big: bigint;
  try {
    big = typeof value === 'bigint' ? value : BigInt(value);
  } catch {
    throw new Error(`invalid ${unsigned ? 'uint64' : 'int64'}: ${String(value)}`);
  }
  if (unsigned ? big < 0n || big > UINT64_MAX : big < INT64_MIN || big > INT64_MAX) {
    throw new Error(`invalid ${unsigned ? 'uint64' : 'int64'}: ${value}`);
  }
  const bits = BigInt.asUintN(64, big);
  return [Number(bits & 0xffffffffn), Number(bits >> 32n)];
}

function checkInt32(value: number): void {
  if (!Number.isInteger(value) || value > 0x7fffffff || value < -0x80000000) throw new Error(`invalid int32: ${value}`);
}

function checkUint32(value: number): void {
  if (!Number.isInteger(value) || value > 0xffffffff || value < 0) throw new Error(`invalid uint32: ${value}`);
}

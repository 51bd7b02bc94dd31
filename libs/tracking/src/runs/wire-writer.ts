import type { UnknownField } from '@bufbuild/protobuf';
import { WireType } from '@bufbuild/protobuf/wire';

/**
 * A minimal protobuf wire-format writer into one growing buffer: tags, varints, doubles, UTF-8
 * strings, and nested messages whose length is patched in when they end. protobuf-es' own writer
 * encodes each string through TextEncoder into a chunk of its own; for pages of tens of thousands
 * of small messages that is most of the time spent.
 */
export class WireWriter {
  private buffer: Buffer;
  private at = 0;
  private readonly open: number[] = [];

  /** Starts with room for `expectedBytes`: growing a large message means copying it again. */
  constructor(expectedBytes = 64 * 1024) {
    this.buffer = Buffer.allocUnsafe(expectedBytes);
  }

  /** Starts a length-delimited field holding a message; `end()` closes it. */
  begin(field: number): this {
    this.key(field, 2);
    this.open.push(this.at);
    return this;
  }

  end(): this {
    const start = this.open.pop();
    if (start === undefined) throw new Error('WireWriter.end() without begin()');
    const length = this.at - start;
    const prefix = varintLength(length);
    this.reserve(prefix);
    this.buffer.copyWithin(start + prefix, start, this.at);
    writeVarint(this.buffer, start, length);
    this.at += prefix;
    return this;
  }

  /** A string field; the empty string is left out, as proto3 leaves out defaults. */
  string(field: number, value: string): this {
    if (value === '') return this;
    const length = Buffer.byteLength(value);
    this.key(field, 2);
    this.reserve(10 + length);
    this.at = writeVarint(this.buffer, this.at, length);
    this.at += this.buffer.write(value, this.at, 'utf8');
    return this;
  }

  /** An int64 or enum field from a safe integer; 0 is left out. */
  integer(field: number, value: number): this {
    if (value === 0) return this;
    this.key(field, 0);
    this.reserve(10);
    if (value > 0) this.at = writeVarint(this.buffer, this.at, value);
    else this.at = writeVarintBig(this.buffer, this.at, BigInt.asUintN(64, BigInt(value)));
    return this;
  }

  /** A double field; 0 is left out (NaN and infinities are written). */
  double(field: number, value: number): this {
    if (value === 0) return this;
    this.key(field, 1);
    this.reserve(8);
    this.at = this.buffer.writeDoubleLE(value, this.at);
    return this;
  }

  /** A packed repeated int64 field from safe integers; an empty list is left out. */
  integers(field: number, values: readonly number[]): this {
    if (values.length === 0) return this;
    this.begin(field);
    this.reserve(10 * values.length);
    for (const value of values) {
      this.at = value >= 0 ? writeVarint(this.buffer, this.at, value) : writeVarintBig(this.buffer, this.at, BigInt.asUintN(64, BigInt(value)));
    }
    return this.end();
  }

  /** A packed repeated double field; an empty list is left out. */
  doubles(field: number, values: readonly number[]): this {
    if (values.length === 0) return this;
    this.begin(field);
    this.reserve(8 * values.length);
    for (const value of values) this.at = this.buffer.writeDoubleLE(value, this.at);
    return this.end();
  }

  /**
   * What was written, one or more length-delimited fields numbered `field` (a message each), as the
   * unknown field of the message they go out in: protobuf-es' toBinary copies its data as it is
   * after the field's tag, so the data is the bytes less that first tag. A view of the buffer, like
   * finish(): write nothing more.
   */
  unknownField(field: number): UnknownField {
    const firstTagLength = field < 16 ? 1 : 2;
    return { no: field, wireType: WireType.LengthDelimited, data: this.finish().subarray(firstTagLength) };
  }

  /** The bytes written so far (a view of the buffer, valid until the next write). */
  finish(): Uint8Array {
    return this.buffer.subarray(0, this.at);
  }

  private key(field: number, wireType: number): void {
    this.reserve(5);
    this.at = writeVarint(this.buffer, this.at, field * 8 + wireType);
  }

  private reserve(bytes: number): void {
    if (this.at + bytes <= this.buffer.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.at + bytes));
    this.buffer.copy(bigger, 0, 0, this.at);
    this.buffer = bigger;
  }
}

function varintLength(value: number): number {
  let length = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    length++;
  }
  return length;
}

function writeVarint(buffer: Buffer, at: number, value: number): number {
  while (value >= 0x80) {
    buffer[at++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  buffer[at++] = value;
  return at;
}

function writeVarintBig(buffer: Buffer, at: number, value: bigint): number {
  while (value >= 0x80n) {
    buffer[at++] = Number(value & 0x7fn) | 0x80;
    value >>= 7n;
  }
  buffer[at++] = Number(value);
  return at;
}

import type { PartEntry } from './cipher';
import { CHUNK_SIZE, chunkCount, HEADER_LENGTH, SEALED_CHUNK_SIZE, sealedSize, TAG_LENGTH } from './format';

/** Where one segment of a body lies, in the plaintext and in the stored bytes. */
export interface Segment {
  partNumber: number;
  plainSize: number;
  plainOffset: number;
  storedOffset: number;
}

/** One thing the reader of a body expects next: a segment's header, or a sealed chunk of the current segment. */
export type Step =
  | { type: 'header'; partNumber: number }
  | {
      type: 'chunk';
      partNumber: number;
      index: number;
      sealedLength: number;
      final: boolean;
      /** The part of the chunk's plaintext to pass on, [keepFrom, keepTo). */
      keepFrom: number;
      keepTo: number;
    };

/** The segments of a body made of `parts` (a one-segment body is `[[0, size]]`). */
export function segmentsOf(parts: readonly PartEntry[]): Segment[] {
  let plainOffset = 0;
  let storedOffset = 0;
  return parts.map(([partNumber, plainSize]) => {
    const segment = { partNumber, plainSize, plainOffset, storedOffset };
    plainOffset += plainSize;
    storedOffset += sealedSize(plainSize);
    return segment;
  });
}

/** Plaintext bytes in `segments`. */
export function plainTotal(segments: readonly Segment[]): number {
  return segments.reduce((sum, s) => sum + s.plainSize, 0);
}

/** The steps of a whole body, after its first header (which has been read to know the body's shape). */
export function wholeBody(segments: readonly Segment[]): Iterable<Step> {
  const last = segments.length - 1;
  return steps(segments, { segment: 0, chunk: 0 }, { segment: last, chunk: chunkCount(segments[last].plainSize) - 1 }, 0, Number.MAX_SAFE_INTEGER);
}

/** What to read for plaintext bytes [start, end) (end > start): the stored range, the segment whose header keys it, and the steps. */
export interface RangePlan {
  storedStart: number;
  storedEnd: number;
  segment: Segment;
  steps: Iterable<Step>;
}

/** Plans reading plaintext [start, end) from the chunks that hold it. */
export function rangeOf(segments: readonly Segment[], start: number, end: number): RangePlan {
  const first = segments.findIndex((s) => s.plainSize > 0 && start < s.plainOffset + s.plainSize);
  const last = segments.findIndex((s) => s.plainSize > 0 && end - 1 < s.plainOffset + s.plainSize);
  const from = { segment: first, chunk: Math.floor((start - segments[first].plainOffset) / CHUNK_SIZE) };
  const to = { segment: last, chunk: Math.floor((end - 1 - segments[last].plainOffset) / CHUNK_SIZE) };
  const lastChunkPlain = Math.min(CHUNK_SIZE, segments[last].plainSize - to.chunk * CHUNK_SIZE);
  return {
    storedStart: segments[first].storedOffset + HEADER_LENGTH + from.chunk * SEALED_CHUNK_SIZE,
    storedEnd: segments[last].storedOffset + HEADER_LENGTH + to.chunk * SEALED_CHUNK_SIZE + lastChunkPlain + TAG_LENGTH,
    segment: segments[first],
    steps: steps(segments, from, to, start, end),
  };
}

interface Position {
  segment: number;
  chunk: number;
}

function* steps(segments: readonly Segment[], from: Position, to: Position, start: number, end: number): Generator<Step> {
  for (let s = from.segment; s <= to.segment; s++) {
    const segment = segments[s];
    if (s > from.segment) yield { type: 'header', partNumber: segment.partNumber };
    const count = chunkCount(segment.plainSize);
    const lastChunk = s === to.segment ? to.chunk : count - 1;
    for (let index = s === from.segment ? from.chunk : 0; index <= lastChunk; index++) {
      const chunkStart = segment.plainOffset + index * CHUNK_SIZE;
      const size = Math.min(CHUNK_SIZE, segment.plainSize - index * CHUNK_SIZE);
      yield {
        type: 'chunk',
        partNumber: segment.partNumber,
        index,
        sealedLength: size + TAG_LENGTH,
        final: index === count - 1,
        keepFrom: clamp(start - chunkStart, size),
        keepTo: clamp(end - chunkStart, size),
      };
    }
  }
}

function clamp(value: number, max: number): number {
  return Math.min(Math.max(value, 0), max);
}

import { endianness } from 'node:os';

/** Below this many values the engine's own sort is as quick: a radix sort pays for its counts first. */
const RADIX_MIN = 2048;
const DIGIT_BITS = 11;
const BUCKETS = 1 << DIGIT_BITS;
const DIGIT_MASK = BUCKETS - 1;
/** The 64 bits of a key as (word, shift) digits, least significant first: 11 + 11 + 10 bits of each 32-bit word. */
const DIGITS: readonly (readonly [word: 0 | 1, shift: number])[] = [
  [0, 0],
  [0, 11],
  [0, 22],
  [1, 0],
  [1, 11],
  [1, 22],
];

/** Scratch words kept between sorts up to this many values (16 MiB), so that scoring window after window does not fault in fresh pages for each. */
const SCRATCH_MAX = 1 << 20;
let kept: Uint32Array[] = [];

/** Four arrays of `n` words: the keys' low and high halves, and where a pass moves them. */
function scratch(n: number): Uint32Array[] {
  if (n > SCRATCH_MAX) return [0, 1, 2, 3].map(() => new Uint32Array(n));
  if (kept.length === 0 || kept[0].length < n) kept = [0, 1, 2, 3].map(() => new Uint32Array(Math.min(SCRATCH_MAX, Math.max(n, 2 * (kept[0]?.length ?? 0)))));
  return kept.map((words) => words.subarray(0, n));
}

/**
 * Sorts finite numbers ascending in place, as `Float64Array.prototype.sort()` does (-0 before 0),
 * and returns them: an LSD radix sort over the IEEE 754 bits made unsigned-comparable (every bit
 * flipped for a negative number, the sign bit for the rest), a pass per 11-bit digit, skipping the
 * digits all values share. About half the time of the engine's sort on 100,000 and on 1M normal
 * values here (tools/bench/monitoring, node 20).
 */
export function sortFinite(values: Float64Array): Float64Array {
  const n = values.length;
  if (n < RADIX_MIN || endianness() !== 'LE') return values.sort();
  const words = new Uint32Array(values.buffer, values.byteOffset, n * 2);
  let [low, high, nextLow, nextHigh] = scratch(n);
  // Int32Array and `+= 1`: V8 compiles `++` on a typed array element several times slower.
  const counts = new Int32Array(BUCKETS * DIGITS.length);
  for (let i = 0; i < n; i++) {
    const h = words[2 * i + 1];
    const negative = h >>> 31 === 1;
    const l = negative ? ~words[2 * i] >>> 0 : words[2 * i];
    const k = negative ? ~h >>> 0 : (h | 0x80000000) >>> 0;
    low[i] = l;
    high[i] = k;
    counts[l & DIGIT_MASK] += 1;
    counts[BUCKETS + ((l >>> 11) & DIGIT_MASK)] += 1;
    counts[2 * BUCKETS + (l >>> 22)] += 1;
    counts[3 * BUCKETS + (k & DIGIT_MASK)] += 1;
    counts[4 * BUCKETS + ((k >>> 11) & DIGIT_MASK)] += 1;
    counts[5 * BUCKETS + (k >>> 22)] += 1;
  }
  const starts = new Int32Array(BUCKETS);
  for (let d = 0; d < DIGITS.length; d++) {
    if (!startsOf(counts, d, n, starts)) continue;
    const keys = DIGITS[d][0] === 0 ? low : high;
    const shift = DIGITS[d][1];
    for (let i = 0; i < n; i++) {
      const bucket = (keys[i] >>> shift) & DIGIT_MASK;
      const to = starts[bucket];
      starts[bucket] = to + 1;
      nextLow[to] = low[i];
      nextHigh[to] = high[i];
    }
    const [swapLow, swapHigh] = [low, high];
    low = nextLow;
    high = nextHigh;
    nextLow = swapLow;
    nextHigh = swapHigh;
  }
  for (let i = 0; i < n; i++) {
    const h = high[i];
    const negative = h >>> 31 === 0;
    words[2 * i] = negative ? ~low[i] >>> 0 : low[i];
    words[2 * i + 1] = negative ? ~h >>> 0 : h & 0x7fffffff;
  }
  return values;
}

/** Fills `starts` with where each bucket of digit `d` begins; false when one bucket holds every value (the pass would change nothing). */
function startsOf(counts: Int32Array, d: number, n: number, starts: Int32Array): boolean {
  let at = 0;
  for (let b = 0; b < BUCKETS; b++) {
    const count = counts[d * BUCKETS + b];
    if (count === n) return false;
    starts[b] = at;
    at += count;
  }
  return true;
}

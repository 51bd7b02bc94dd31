import { seededUniforms } from '@trellis/testing';
import { sortFinite } from './radix-sort';
import { selectRanks } from './select';

const draw = (seed: number, count: number, value: (u: number, i: number) => number): Float64Array => {
  const random = seededUniforms(seed);
  return Float64Array.from({ length: count }, (_, i) => value(random(), i));
};

const SAMPLES: Record<string, Float64Array> = {
  'spread over magnitudes and signs': draw(1, 5000, (u) => (u - 0.5) * 10 ** Math.floor(u * 40 - 20)),
  'ties (two decimals)': draw(2, 5000, (u) => Math.round((u - 0.5) * 400) / 100),
  'small integers': draw(3, 5000, (u) => Math.floor(u * 7)),
  'zeros of both signs, subnormals and the extremes': draw(4, 3000, (u, i) => [-0, 0, 5e-324, -5e-324, Number.MAX_VALUE, -Number.MAX_VALUE, u][i % 7]),
  'already ascending': draw(5, 4000, (_, i) => i / 7),
  'descending': draw(6, 4000, (_, i) => -i * 3.5),
  'one value': new Float64Array(2500).fill(-2.25),
  'fewer than a radix sort is worth': draw(7, 300, (u) => u * 2 - 1),
};

describe('sortFinite', () => {
  it.each(Object.entries(SAMPLES))('orders %s as Float64Array.prototype.sort does, -0 before 0', (_, sample) => {
    const expected = sample.slice().sort();
    const sorted = sortFinite(sample.slice());
    expect(sorted.every((value, i) => Object.is(value, expected[i]))).toBe(true);
  });
});

describe('selectRanks', () => {
  it.each(Object.entries(SAMPLES))('puts at each asked rank of %s the value sorting puts there (-0 and 0 alike)', (_, sample) => {
    const n = sample.length;
    const ranks = [0, 1, Math.floor(n / 10), Math.floor(n / 2), Math.floor(n / 2) + 1, n - 2, n - 1, n - 1];
    const expected = sample.slice().sort();
    const selected = sample.slice();
    selectRanks(selected, ranks);
    const zeroAsZero = (value: number) => value + 0;
    expect(ranks.map((rank) => zeroAsZero(selected[rank]))).toEqual(ranks.map((rank) => zeroAsZero(expected[rank])));
    expect(selected.slice().sort()).toEqual(expected);
  });
});

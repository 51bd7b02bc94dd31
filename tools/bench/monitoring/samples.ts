// What the monitoring benches share: fixed-seed samples and how they print their conditions.
import { seededUniforms } from '@trellis/testing';
import { loadavg } from 'node:os';


/** mulberry32, then Box-Muller: `count` normal draws with mean `shift` and standard deviation `scale`, the same for a seed (as ks.bench.ts draws them). */
export function normals(seed: number, count: number, shift = 0, scale = 1): Float64Array {
  const random = seededUniforms(seed);
  return Float64Array.from({ length: count }, () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()) * scale + shift);
}

export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

export function argument(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** Seconds since `start` (a `process.hrtime.bigint()`). */
export const secondsSince = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;

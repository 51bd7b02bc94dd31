/** The eight heights a sparkline cell can have, lowest first. */
const BLOCKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/** A metric's values as proto3 JSON sends them: numbers, or "NaN" / "Infinity" / "-Infinity". */
export type JsonNumber = number | string;

/** The lowest, highest and last finite value of a series; undefined where it has none. */
export interface SeriesSummary {
  min?: number;
  max?: number;
  last?: number;
}

/** A JSON double as a number: "NaN" and the infinities become the values they name. */
export function numberOf(value: JsonNumber): number {
  return typeof value === 'number' ? value : Number(value);
}

/** The min, max and last of the finite values, the ones a sparkline can place. */
export function summarize(values: readonly number[]): SeriesSummary {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return {};
  return { min: Math.min(...finite), max: Math.max(...finite), last: finite[finite.length - 1] };
}

/**
 * Values as a line of at most `width` block characters, one per value, scaled from the lowest
 * (▁) to the highest (█); a flat series sits in the middle. Longer series are cut into `width`
 * consecutive buckets, each drawn at its value farthest from the series' mean, so a spike
 * stays visible. A bucket with no finite value (NaN, infinities) is a space.
 */
export function sparkline(values: readonly number[], width: number): string {
  const { min, max } = summarize(values);
  if (min === undefined || max === undefined) return ' '.repeat(Math.min(values.length, width));
  const finite = values.filter(Number.isFinite);
  const mean = finite.reduce((sum, value) => sum + value, 0) / finite.length;
  const cells = bucket(values, Math.max(1, width)).map((cell) => {
    const finite = cell.filter(Number.isFinite);
    if (finite.length === 0) return undefined;
    return finite.reduce((kept, value) => (Math.abs(value - mean) > Math.abs(kept - mean) ? value : kept));
  });
  return cells
    .map((value) => {
      if (value === undefined) return ' ';
      if (max === min) return BLOCKS[3];
      return BLOCKS[Math.min(BLOCKS.length - 1, Math.floor(((value - min) / (max - min)) * BLOCKS.length))];
    })
    .join('');
}

/** `values` cut into at most `count` runs of consecutive values, as even as the lengths allow. */
function bucket(values: readonly number[], count: number): number[][] {
  if (values.length <= count) return values.map((value) => [value]);
  return Array.from({ length: count }, (_, index) => values.slice(Math.floor((index * values.length) / count), Math.floor(((index + 1) * values.length) / count)));
}

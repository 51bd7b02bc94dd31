import { CliError, EXIT } from '../exit-codes';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3_600, d: 86_400 };

/** `90s`, `15m`, `2h`, `7d` (or plain seconds) in seconds, for `--window`, `--for` and `--since`. */
export function parseDuration(value: string, option: string): number {
  const match = /^(\d{1,7})([smhd]?)$/.exec(value);
  if (!match) throw new CliError(`${option} "${value.slice(0, 40)}" is not a duration: give seconds or a number and a unit (90s, 15m, 2h, 7d)`, EXIT.usage);
  return Number(match[1]) * UNIT_SECONDS[match[2] || 's'];
}

/** A whole number from `min` to `max`. */
export function parseCount(value: string, option: string, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const number = /^\d{1,16}$/.test(value) ? Number(value) : Number.NaN;
  if (!(number >= min && number <= max)) throw new CliError(`${option} "${value.slice(0, 40)}" must be a whole number from ${min} to ${max.toLocaleString('en')}`, EXIT.usage);
  return number;
}

/** A number in [min, max] (or (min, max] when `exclusiveMin`). */
export function parseNumber(value: string, option: string, { min = -Infinity, max = Infinity, exclusiveMin = false } = {}): number {
  const number = value.trim() === '' ? Number.NaN : Number(value);
  const inRange = Number.isFinite(number) && (exclusiveMin ? number > min : number >= min) && number <= max;
  if (!inRange) {
    const bounds = [Number.isFinite(min) ? `${exclusiveMin ? 'above' : 'at least'} ${min}` : '', Number.isFinite(max) ? `at most ${max}` : ''].filter(Boolean).join(' and ');
    throw new CliError(`${option} "${value.slice(0, 40)}" must be a number${bounds ? ` ${bounds}` : ''}`, EXIT.usage);
  }
  return number;
}

/** Commander's collector for an option that may be given several times. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `a,b,c` as its non-empty names. */
export function commaList(value: string): string[] {
  return value
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
}

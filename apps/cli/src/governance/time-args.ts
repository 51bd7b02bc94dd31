import { CliError, EXIT } from '../exit-codes';

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `15m`, `2h`, `7d` in milliseconds, or undefined for anything else. */
function durationMs(value: string): number | undefined {
  const match = /^(\d{1,6})([smhd])$/.exec(value);
  return match ? Number(match[1]) * UNIT_MS[match[2]] : undefined;
}

/**
 * A point in time from an option such as `--since`: an RFC 3339 time or a date (`2026-01-31`,
 * `2026-01-31T12:00:00Z`), or an age before `now` (`90s`, `15m`, `2h`, `7d`), as RFC 3339.
 */
export function parseTimeArg(value: string, option: string, now = Date.now()): string {
  const age = durationMs(value);
  if (age !== undefined) return new Date(now - age).toISOString();
  const time = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time)) throw new CliError(`${option} "${value.slice(0, 40)}" is not a time: give an RFC 3339 time (2026-01-31T12:00:00Z), a date (2026-01-31), or an age (15m, 2h, 7d)`, EXIT.usage);
  return new Date(time).toISOString();
}

/** A time `value` (`12h`, `30d`) after `now`, as RFC 3339: when a new key expires. */
export function parseTimeFromNow(value: string, option: string, now = Date.now()): string {
  const ahead = durationMs(value);
  if (ahead === undefined || ahead === 0) throw new CliError(`${option} "${value.slice(0, 40)}" is not a duration: give a number and a unit (12h, 30d)`, EXIT.usage);
  return new Date(now + ahead).toISOString();
}

import { CliError, EXIT } from '../exit-codes';

const MODEL_REF = /^models:\/[^/@\s]{1,256}(\/[1-9]\d{0,17}|@[A-Za-z0-9_-]{1,255})$/;

/** A registry reference, checked before anything is sent: models:/<name>/<version> or models:/<name>@<alias>. */
export function modelRef(value: string): string {
  if (!MODEL_REF.test(value)) throw new CliError(`--model "${value.slice(0, 64)}" is not models:/<name>/<version> or models:/<name>@<alias> (e.g. models:/churn/3, models:/churn@champion)`, EXIT.usage);
  return value;
}

/** A whole percent from 0 to 100 (`--traffic 10`). */
export function percent(value: string, what: string): number {
  const number = Number(value);
  if (!/^\d{1,3}$/.test(value) || number > 100) throw new CliError(`${what} "${value.slice(0, 16)}" must be a whole percent from 0 to 100`, EXIT.usage);
  return number;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A length of time as people write it: 90s, 15m, 1h, 7d; in milliseconds. */
export function duration(value: string, option: string): number {
  const match = /^(\d{1,6})([smhd])$/.exec(value);
  if (!match) throw new CliError(`${option} "${value.slice(0, 16)}" is not a length of time such as 30m, 1h or 7d`, EXIT.usage);
  return Number(match[1]) * UNITS[match[2]];
}

/** `<revision>=<percent>` pairs: a revision by number or id, each percent 1 to 100. */
export function trafficPairs(pairs: readonly string[]): Array<{ revision: string; percent: number }> {
  return pairs.map((pair) => {
    const match = /^([^=\s]{1,64})=(\d{1,3})$/.exec(pair);
    if (!match || Number(match[2]) < 1 || Number(match[2]) > 100) throw new CliError(`"${pair.slice(0, 64)}" is not <revision>=<percent> with a percent of 1 to 100 (e.g. 1=90 2=10)`, EXIT.usage);
    return { revision: match[1], percent: Number(match[2]) };
  });
}

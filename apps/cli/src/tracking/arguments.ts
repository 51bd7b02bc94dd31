import { CliError, EXIT } from '../exit-codes';

/** A whole number of at least 1 from an argument, or a usage error naming the argument. */
export function positiveInteger(value: string, name: string): number {
  if (!/^\d{1,15}$/.test(value) || Number(value) < 1) throw new CliError(`${name} must be a whole number of at least 1, not "${value.slice(0, 32)}"`, EXIT.usage);
  return Number(value);
}

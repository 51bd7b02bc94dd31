import { InvalidArgumentError } from './domain-errors';

/** INVALID_ARGUMENT naming `field` unless `value` is non-empty. */
export function checkRequired(value: string, field: string): void {
  if (value.length === 0) throw new InvalidArgumentError('is required', field);
}

/** INVALID_ARGUMENT naming `field`, its length and the limit when `value` is longer than `limit`. */
export function checkLength(value: string, limit: number, field: string): void {
  if (value.length > limit) throw new InvalidArgumentError(`is ${value.length} characters; the limit is ${limit}`, field);
}

import type { Timestamp } from '@bufbuild/protobuf/wkt';
import { InvalidArgumentError } from '@trellis/platform';

/**
 * The milliseconds since the Unix epoch of a request's Timestamp, sub-millisecond digits dropped
 * (tracking keeps instants to the millisecond, as MLflow does). INVALID_ARGUMENT naming `field`
 * for an instant before 1970 or too far ahead to count exactly in milliseconds, or nanos out of range.
 */
export function millisOf(time: Timestamp, field: string): number {
  if (!Number.isInteger(time.nanos) || time.nanos < 0 || time.nanos > 999_999_999) {
    throw new InvalidArgumentError(`nanos must be between 0 and 999999999, found ${time.nanos}`, field);
  }
  const ms = Number(time.seconds) * 1000 + Math.floor(time.nanos / 1_000_000);
  if (!Number.isSafeInteger(ms) || ms < 0) throw new InvalidArgumentError('must be a non-negative number of milliseconds since the Unix epoch', field);
  return ms;
}

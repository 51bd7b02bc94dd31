import { create } from '@bufbuild/protobuf';
import { DurationSchema, type Duration } from '@bufbuild/protobuf/wkt';
import { InvalidArgumentError } from '@trellis/platform';

/** A protobuf Duration in milliseconds; INVALID_ARGUMENT naming `field` for a negative one. */
export function durationMs(duration: Duration, field: string): number {
  const ms = Number(duration.seconds) * 1000 + Math.floor(duration.nanos / 1e6);
  if (ms < 0 || duration.nanos < 0) throw new InvalidArgumentError('must not be negative', field);
  return ms;
}

/** Milliseconds as a protobuf Duration. */
export function durationOf(ms: number): Duration {
  return create(DurationSchema, { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 });
}

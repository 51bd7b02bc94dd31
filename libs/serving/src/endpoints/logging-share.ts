import { InvalidArgumentError } from '@trellis/platform';

/** INVALID_ARGUMENT naming `field` unless `share` is a share of requests to log: 0 (none) to 1 (all). */
export function checkLoggingShare(share: number, field: string): void {
  if (!Number.isFinite(share) || share < 0 || share > 1) throw new InvalidArgumentError('must be from 0 to 1', field);
}

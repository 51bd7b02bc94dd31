import { InvalidPartError, MULTIPART_LIMITS, type UploadedPart } from '@trellis/plugin-sdk';
import { parseSealedPartEtag } from './uploads';

/** Refuses a part number outside 1 to 10000 with `InvalidPartError`. */
export function checkPartNumber(partNumber: number): void {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MULTIPART_LIMITS.maxPartNumber) {
    throw new InvalidPartError(`part number ${partNumber} is not allowed; part numbers are integers from 1 to ${MULTIPART_LIMITS.maxPartNumber}`);
  }
}

/** A part listed to complete an encrypted upload, with what its etag says. */
export interface CheckedPart {
  partNumber: number;
  plainSize: number;
  innerEtag: string;
}

/**
 * Checks the parts listed to complete an encrypted upload as the contract asks, on plaintext sizes
 * (the inner store sees sealed parts, a little larger): at least one, ascending, etags this store
 * issued, every part but the last at least 5 MiB. Whether each part exists with that etag is the
 * inner store's check.
 */
export function checkParts(parts: readonly UploadedPart[]): CheckedPart[] {
  if (parts.length === 0) throw new InvalidPartError('a multipart upload is completed with at least one part');
  return parts.map((part, i) => {
    checkPartNumber(part.partNumber);
    if (i > 0 && part.partNumber <= parts[i - 1].partNumber) {
      throw new InvalidPartError(`parts must be listed in ascending part number order; part ${part.partNumber} follows part ${parts[i - 1].partNumber}`);
    }
    const etag = parseSealedPartEtag(part.etag);
    if (!etag) throw new InvalidPartError(`part ${part.partNumber} has etag ${JSON.stringify(part.etag)}, which no part of this upload was given`);
    if (i < parts.length - 1 && etag.plainSize < MULTIPART_LIMITS.minPartSize) {
      throw new InvalidPartError(`part ${part.partNumber} is ${etag.plainSize} bytes; every part but the last must be at least ${MULTIPART_LIMITS.minPartSize} bytes (5 MiB)`);
    }
    return { partNumber: part.partNumber, plainSize: etag.plainSize, innerEtag: etag.innerEtag };
  });
}

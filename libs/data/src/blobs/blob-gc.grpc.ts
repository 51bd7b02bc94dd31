import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { Metadata } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { Authenticated, callerOf, InvalidArgumentError } from '@trellis/platform';
import { CollectGarbageResponseSchema, type CollectGarbageRequest, type CollectGarbageResponse } from '@trellis/proto/trellis/data/v1/blob_service_pb';
import { BlobGcService } from './blob-gc.service';
import { GC_GRACE_MS } from './blob-gc.worker';

/**
 * Shortest grace a caller may ask for: a commit never loses a file whatever the grace, but one
 * naming blobs uploaded longer ago than the grace can fail (BLOBS_MISSING) and need them again.
 */
const MIN_GRACE_SECONDS = 3600n;
const MAX_GRACE_SECONDS = 365n * 24n * 3600n;

/** The handler of `trellis.data.v1.BlobService/CollectGarbage`: org admins run one collection now. */
@Controller()
export class BlobGcGrpc {
  constructor(private readonly gc: BlobGcService) {}

  @GrpcMethod('BlobService', 'CollectGarbage')
  @Authenticated('delete', 'GarbageCollection')
  async collectGarbage(request: CollectGarbageRequest, metadata: Metadata): Promise<CollectGarbageResponse> {
    const caller = callerOf(metadata);
    // Storage instances are the org's, and a collection spans every project.
    caller.assertOrgAdmin('collect garbage');
    const graceMs = graceOf(request.graceSeconds);
    const now = Date.now();
    const instances = await this.gc.collect({ graceMs, now, dryRun: request.dryRun }, caller);
    return create(CollectGarbageResponseSchema, {
      instances: instances.map((store) => ({
        storeName: store.storeName,
        deletedBlobs: BigInt(store.deletedBlobs),
        freedBytes: BigInt(store.freedBytes),
        releasedHolds: BigInt(store.releasedHolds),
        droppedUploads: BigInt(store.droppedUploads),
        droppedIntakes: BigInt(store.droppedIntakes),
      })),
      cutoffTime: timestampFromMs(now - graceMs),
      dryRun: request.dryRun,
    });
  }
}

/** The grace asked for, in milliseconds: the sweep's for 0. */
function graceOf(seconds: bigint): number {
  if (seconds === 0n) return GC_GRACE_MS;
  if (seconds < MIN_GRACE_SECONDS || seconds > MAX_GRACE_SECONDS) {
    throw new InvalidArgumentError(`must be 0 (a day) or from ${MIN_GRACE_SECONDS} (an hour) to ${MAX_GRACE_SECONDS} (a year) seconds`, 'grace_seconds');
  }
  return Number(seconds) * 1000;
}

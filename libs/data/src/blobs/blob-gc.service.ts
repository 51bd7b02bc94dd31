import { Injectable } from '@nestjs/common';
import { VersionRepository } from '../versions/version.repository';
import { BlobRepository } from './blob.repository';
import { blobKey, BlobStore } from './blob-store';

/** Candidates read and checked per transaction. */
const BATCH = 1000;

/** What one collection freed in one storage instance. */
export interface CollectedStore {
  storeName: string;
  deletedBlobs: number;
  freedBytes: number;
}

/**
 * Garbage collection of blobs: deletes the blobs no live version names and no commit or upload
 * has marked within `graceMs`. Per batch, one transaction reads which candidates live versions name
 * and deletes the records of the others that are still unmarked (a commit marks its blobs in its
 * own transaction, see BlobRepository.touch); the objects are deleted from storage after it commits.
 */
@Injectable()
export class BlobGcService {
  constructor(
    private readonly blobs: BlobStore,
    private readonly records: BlobRepository,
    private readonly versions: VersionRepository,
  ) {}

  /** Collects every instance once; `now` and `graceMs` set the cutoff (blobs marked before `now - graceMs` may go). */
  async collect(graceMs: number, now = Date.now()): Promise<CollectedStore[]> {
    const cutoff = now - graceMs;
    const freed: CollectedStore[] = [];
    for (const storeName of await this.records.storeNames()) {
      const result: CollectedStore = { storeName, deletedBlobs: 0, freedBytes: 0 };
      const store = await this.blobs.open(storeName);
      let after = '';
      for (;;) {
        const candidates = await this.records.unreferencedSince(storeName, cutoff, after, BATCH);
        if (candidates.length === 0) break;
        after = candidates[candidates.length - 1];
        const deleted = await this.records.transaction(async (tx) => {
          const live = await this.versions.liveAmong(tx, storeName, candidates);
          return this.records.deleteUnreferenced(
            tx,
            storeName,
            candidates.filter((sha256) => !live.has(sha256)),
            cutoff,
          );
        });
        for (const blob of deleted) {
          await store.delete(blobKey(blob.sha256));
          result.deletedBlobs += 1;
          result.freedBytes += blob.size;
        }
      }
      freed.push(result);
    }
    return freed;
  }
}

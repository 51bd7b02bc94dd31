import { Injectable } from '@nestjs/common';
import { VersionRepository } from '../versions/version.repository';
import { BlobRepository, type HeldBlob } from './blob.repository';
import { blobKey, BlobStore } from './blob-store';

/** Candidates read and checked per transaction. */
const BATCH = 1000;

/** What one collection freed in one storage instance. */
export interface CollectedStore {
  storeName: string;
  deletedBlobs: number;
  freedBytes: number;
  /** Rows of projects that no longer hold a blob (its bytes may stay for other projects). */
  releasedHolds: number;
}

/**
 * Garbage collection of blobs: forgets a project's hold on a blob no live version of the project
 * names and no commit or upload of the project has marked within `graceMs`, then deletes the blobs
 * no live version of any project names and nothing marked within `graceMs`, with every project's
 * hold on them. Per batch, one transaction reads which candidates live versions name and deletes
 * the rows of the others that are still unmarked (a commit marks its blobs and the project's holds
 * in its own transaction, see BlobRepository.touch); the objects are deleted from storage after it commits.
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
      const result: CollectedStore = { storeName, deletedBlobs: 0, freedBytes: 0, releasedHolds: await this.release(storeName, cutoff) };
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

  /** Drops the instance's project holds that are unmarked since `cutoff` and that no live version of their project names; answers how many went. */
  private async release(storeName: string, cutoff: number): Promise<number> {
    let released = 0;
    let after: HeldBlob = { projectId: '', sha256: '' };
    for (;;) {
      const candidates = await this.records.heldUnreferencedSince(storeName, cutoff, after, BATCH);
      if (candidates.length === 0) return released;
      after = candidates[candidates.length - 1];
      const byProject = new Map<string, string[]>();
      for (const held of candidates) {
        const digests = byProject.get(held.projectId) ?? [];
        digests.push(held.sha256);
        byProject.set(held.projectId, digests);
      }
      released += await this.records.transaction(async (tx) => {
        let count = 0;
        for (const [projectId, sha256s] of byProject) {
          const live = await this.versions.liveInProjectAmong(tx, projectId, storeName, sha256s);
          count += await this.records.deleteHeldUnreferenced(
            tx,
            projectId,
            storeName,
            sha256s.filter((sha256) => !live.has(sha256)),
            cutoff,
          );
        }
        return count;
      });
    }
  }
}

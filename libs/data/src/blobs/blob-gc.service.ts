import { status } from '@grpc/grpc-js';
import { Injectable } from '@nestjs/common';
import { AuditRecorder, DomainError, resourceName, type Caller } from '@trellis/platform';
import { iterateObjects, type ObjectStore } from '@trellis/plugin-sdk';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { VersionRepository } from '../versions/version.repository';
import { BlobUploadRepository } from './blob-upload.repository';
import { BlobRepository, type HeldBlob } from './blob.repository';
import { BlobService } from './blob.service';
import { BlobGcRepository } from './blob-gc.repository';
import { blobKey, BlobStore } from './blob-store';
import { INTAKE_PREFIX } from './blob-intake';

/** Candidates read and checked per transaction, and expired uploads read at a time. */
const BATCH = 1000;
/** The method the audit log names for every collection, the hourly sweep's too. */
const COLLECT_GARBAGE_METHOD = 'trellis.data.v1.BlobService/CollectGarbage';
/** Who the audit log names for the service's own sweeps. */
export const SERVICE_ACTOR = 'service:data';

/** Runs one batch's statements in a transaction of its own. */
type Batch = <T>(work: (tx: EntityManager) => Promise<T>) => Promise<T>;

/** What one collection freed in one storage instance. */
export interface CollectedStore {
  storeName: string;
  deletedBlobs: number;
  freedBytes: number;
  /** Rows of projects that no longer hold a blob (its bytes may stay for other projects). */
  releasedHolds: number;
  /** Expired uploads dropped with their staged bytes. */
  droppedUploads: number;
  /** Objects of pushes that stopped mid-file (`INTAKE_PREFIX`), last written before the cutoff. */
  droppedIntakes: number;
}

/** What a collection is asked to do. */
export interface Collection {
  /** Blobs and holds a commit or upload named within this long before `now` stay. */
  graceMs: number;
  /** Defaults to the current time. */
  now?: number;
  /** Reports what would go and deletes nothing: each batch's statements run and are rolled back. */
  dryRun?: boolean;
}

/** Another collection holds the lock: this call's or the hourly sweep's, in this replica or another. */
export class CollectionRunningError extends DomainError {
  readonly code = status.ABORTED;

  constructor() {
    super('a garbage collection is already running; retry once it ends', { reason: 'GARBAGE_COLLECTION_RUNNING' });
  }
}

/**
 * Garbage collection of blobs, one collection at a time: drops expired uploads, forgets a
 * project's hold on a blob no live version of the project names and no commit or upload of the
 * project has marked within `graceMs`, then deletes the blobs no live version of any project
 * names and nothing marked within `graceMs`, with every project's hold on them. Per batch, one
 * transaction reads which candidates live versions name and deletes the rows of the others that
 * are still unmarked (a commit marks its blobs and the project's holds in its own transaction, see
 * BlobRepository.touch); the objects are deleted from storage after it commits. Every collection
 * that frees something, and every one a caller asks for, writes one audit record of what it freed.
 */
@Injectable()
export class BlobGcService {
  constructor(
    private readonly blobs: BlobStore,
    private readonly records: BlobRepository,
    private readonly versions: VersionRepository,
    private readonly uploads: BlobUploadRepository,
    private readonly blobService: BlobService,
    private readonly collections: BlobGcRepository,
    private readonly audit: AuditRecorder,
  ) {}

  /**
   * Collects every instance once, as `caller` (or as the service itself, when none), and answers
   * what went from each, by name; CollectionRunningError while another collection runs. What a
   * collection that fails partway had freed is audited all the same.
   */
  async collect(collection: Collection, caller?: Caller): Promise<CollectedStore[]> {
    const unlock = await this.collections.tryLock();
    if (!unlock) throw new CollectionRunningError();
    const freed = new Map<string, CollectedStore>();
    const byName = () => [...freed.values()].sort((a, b) => (a.storeName < b.storeName ? -1 : 1));
    try {
      await this.run(collection, freed);
    } finally {
      try {
        await this.record(byName(), collection.dryRun === true, caller);
      } finally {
        await unlock();
      }
    }
    return byName();
  }

  private async run({ graceMs, now = Date.now(), dryRun = false }: Collection, freed: Map<string, CollectedStore>): Promise<void> {
    const of = (storeName: string) => {
      const known = freed.get(storeName) ?? { storeName, deletedBlobs: 0, freedBytes: 0, releasedHolds: 0, droppedUploads: 0, droppedIntakes: 0 };
      freed.set(storeName, known);
      return known;
    };
    await this.dropExpiredUploads(now, dryRun, of);
    const cutoff = now - graceMs;
    const batch: Batch = (work) => (dryRun ? this.collections.rolledBack(work) : this.records.transaction(work));
    for (const storeName of await this.records.storeNames()) {
      const result = of(storeName);
      result.releasedHolds = await this.release(storeName, cutoff, batch);
      const store = await this.blobs.open(storeName);
      let after = '';
      for (;;) {
        const candidates = await this.records.unreferencedSince(storeName, cutoff, after, BATCH);
        if (candidates.length === 0) break;
        after = candidates[candidates.length - 1];
        const deleted = await batch(async (tx) => {
          const live = await this.versions.liveAmong(tx, storeName, candidates);
          return this.records.deleteUnreferenced(
            tx,
            storeName,
            candidates.filter((sha256) => !live.has(sha256)),
            cutoff,
          );
        });
        for (const blob of deleted) {
          if (!dryRun) await store.delete(blobKey(blob.sha256));
          result.deletedBlobs += 1;
          result.freedBytes += blob.size;
        }
      }
      result.droppedIntakes = await this.dropAbandonedIntakes(store, cutoff, dryRun);
    }
  }

  /**
   * Deletes what pushes that stopped mid-file left under `INTAKE_PREFIX` (a dry run counts it): an
   * intake object lives only while its file arrives, so one last written before `cutoff` is no
   * push's any more.
   */
  private async dropAbandonedIntakes(store: ObjectStore, cutoff: number, dryRun: boolean): Promise<number> {
    let dropped = 0;
    for await (const object of iterateObjects(store, { prefix: INTAKE_PREFIX })) {
      if (object.lastModified.getTime() >= cutoff) continue;
      if (!dryRun) await store.delete(object.key);
      dropped += 1;
    }
    return dropped;
  }

  /** Drops the uploads that expired before `now` with their staged bytes (a dry run counts them), counting them per instance. */
  private async dropExpiredUploads(now: number, dryRun: boolean, of: (storeName: string) => CollectedStore): Promise<void> {
    if (dryRun) {
      for (const [storeName, count] of await this.collections.expiredUploadCounts(now)) of(storeName).droppedUploads = count;
      return;
    }
    for (;;) {
      const expired = await this.uploads.expired(now, BATCH);
      for (const upload of expired) {
        await this.blobService.drop(upload);
        of(upload.storeName).droppedUploads += 1;
      }
      if (expired.length < BATCH) return;
    }
  }

  /** Drops the instance's project holds that are unmarked since `cutoff` and that no live version of their project names; answers how many went. */
  private async release(storeName: string, cutoff: number, batch: Batch): Promise<number> {
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
      released += await batch(async (tx) => {
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

  /**
   * Writes the collection's audit record, naming what it freed (`garbageCollections/default: 2
   * blobs, 3000 bytes, 1 hold, 0 uploads`): a caller's always, the service's own sweep's only
   * when it freed something.
   */
  private async record(freed: CollectedStore[], dryRun: boolean, caller?: Caller): Promise<void> {
    const summary = freed.map((store) => `${store.storeName}: ${store.deletedBlobs} blobs, ${store.freedBytes} bytes, ${store.releasedHolds} holds, ${store.droppedUploads} uploads, ${store.droppedIntakes} intakes`).join('; ');
    const id = `${dryRun ? 'dry run, ' : ''}${summary || 'nothing'}`;
    const action = dryRun ? 'read' : 'delete';
    if (caller) {
      await this.records.transaction((tx) => this.audit.recordIn(tx, caller, { id, projectId: '', kind: 'GarbageCollection', action }));
      return;
    }
    if (!freed.some((store) => store.deletedBlobs + store.releasedHolds + store.droppedUploads + store.droppedIntakes > 0)) return;
    await this.records.transaction((tx) =>
      this.audit.recordChangeIn(tx, {
        actor: SERVICE_ACTOR,
        action,
        method: COLLECT_GARBAGE_METHOD,
        resource: resourceName(['garbageCollections', id]),
        projectId: '',
        requestId: randomUUID(),
        clientAddress: 'local',
      }),
    );
  }
}

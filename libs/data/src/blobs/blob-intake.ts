import { Injectable } from '@nestjs/common';
import type { ObjectStore } from '@trellis/plugin-sdk';
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { BlobRepository } from './blob.repository';
import { blobKey, BlobStore } from './blob-store';

/** Files up to this size are read whole and hashed before anything is written, so bytes already stored are never written at all. */
const HASHED_IN_MEMORY_BYTES = 4 * 1024 * 1024;

/** A blob as `store` wrote or found it. */
export interface TakenBlob {
  sha256: string;
  size: number;
  /** Whether its bytes were written now (false: the instance held them already). */
  written: boolean;
}

/** Where bytes of a digest not yet known wait: apart from uploads' staging keys, nothing under it is a blob. */
export const INTAKE_PREFIX = 'blobs/intake/';
const intakeKey = (id: string) => `${INTAKE_PREFIX}${id}`;

/**
 * Stores bytes whose digest the sender did not announce (the files of a tar push, an UploadBlob
 * without a digest): hashed as they arrive, written once per instance under their digest, and held
 * by the project as an upload's are. Small files are hashed in memory first; larger ones stream to
 * a key of their own, then are moved (or, where the store cannot move, copied) under their digest
 * unless the instance has it already.
 */
@Injectable()
export class BlobIntake {
  constructor(
    private readonly blobs: BlobStore,
    private readonly repository: BlobRepository,
  ) {}

  /** Stores `size` bytes of `body` in the instance `storeName` for the project; `body` must yield exactly that many (a shorter one fails). */
  async store(projectId: string, storeName: string, size: number, body: AsyncIterable<Uint8Array>): Promise<TakenBlob> {
    const taken = await this.take(storeName, size, body);
    await this.hold(projectId, storeName, taken);
    return taken;
  }

  /** Stores the bytes under their digest in the instance as `store` does, without the project's hold: the caller records it with `hold`. */
  async take(storeName: string, size: number, body: AsyncIterable<Uint8Array>): Promise<TakenBlob> {
    const store = await this.blobs.open(storeName);
    return size <= HASHED_IN_MEMORY_BYTES ? this.fromMemory(store, storeName, body) : this.throughIntakeKey(store, storeName, body);
  }

  /** Records the blob as stored in the instance and held by the project. */
  hold(projectId: string, storeName: string, taken: TakenBlob): Promise<void> {
    return this.repository.transaction((tx) => this.repository.record(tx, projectId, storeName, taken.sha256, taken.size, Date.now()));
  }

  private async fromMemory(store: ObjectStore, storeName: string, body: AsyncIterable<Uint8Array>): Promise<TakenBlob> {
    const parts: Uint8Array[] = [];
    for await (const part of body) parts.push(part);
    const bytes = Buffer.concat(parts);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const written = !(await this.repository.find(storeName, sha256));
    if (written) await store.put(blobKey(sha256), bytes);
    return { sha256, size: bytes.length, written };
  }

  private async throughIntakeKey(store: ObjectStore, storeName: string, body: AsyncIterable<Uint8Array>): Promise<TakenBlob> {
    const key = intakeKey(randomUUID());
    const source = Readable.from(body, { objectMode: false });
    // A sender's failure (an archive cut short) is the answer, whatever the store makes of the broken stream.
    let failure: Error | undefined;
    source.once('error', (error) => (failure = error));
    let moved = false;
    try {
      // The store hashes what it writes (the storage contract's PutResult), so the bytes pass once.
      const { sha256, size } = await store.put(key, source).catch((error: unknown) => Promise.reject(failure ?? error));
      const written = !(await this.repository.find(storeName, sha256));
      // A move renames the bytes where the store can (storage-fs): for 1 GiB a copy cost ~0.6 s more.
      if (written && store.move) {
        await store.move(key, blobKey(sha256));
        moved = true;
      } else if (written) {
        if (store.copy) await store.copy(key, blobKey(sha256));
        else await store.put(blobKey(sha256), await store.get(key));
      }
      return { sha256, size, written };
    } finally {
      if (!moved) await store.delete(key);
    }
  }
}

import { Injectable } from '@nestjs/common';
import { InjectPluginInstances, InvalidArgumentError, PluginInstances } from '@trellis/platform';
import type { ObjectStore } from '@trellis/plugin-sdk';
import { BlobRepository } from './blob.repository';

/** Most digests one FindMissingBlobs call (or one `missing` call) takes. */
export const MAX_DIGESTS_PER_CALL = 10_000;

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Every key of the data service starts with this, so an instance other services also use is shared safely. */
export const BLOB_KEY_PREFIX = 'blobs/';

/**
 * Where a blob lives in its storage instance: `blobs/sha256/<2 hex>/<2 hex>/<64 hex>`, the same
 * key whatever dataset or version the file appears in, so a file is stored once per instance.
 */
export function blobKey(sha256: string): string {
  return `${BLOB_KEY_PREFIX}sha256/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`;
}

/** Where an upload's bytes wait until their digest is checked: nothing under it is a blob. */
export function stagingKey(uploadId: string): string {
  return `${BLOB_KEY_PREFIX}uploads/${uploadId}`;
}

/** Checks that `value` is a SHA-256 digest in lowercase hex, naming `field` when it is not. */
export function checkSha256(value: string, field: string): void {
  if (!SHA256_HEX.test(value)) throw new InvalidArgumentError(`must be a SHA-256 digest, 64 lowercase hex characters (got ${JSON.stringify(value.slice(0, 12))}${value.length > 12 ? '...' : ''})`, field);
}

/**
 * The blobs of each project's storage instance: which the project holds, where, and the instance
 * itself. A blob is stored once per instance (the `blobs` table); what each project may see, name
 * and read is what it holds (the `project_blobs` table).
 */
@Injectable()
export class BlobStore {
  constructor(
    @InjectPluginInstances('storage') private readonly storage: PluginInstances<'storage'>,
    private readonly repository: BlobRepository,
  ) {}

  /** The name of the storage instance the project stores blobs in now (its choice, else `default`). */
  storeNameFor(projectId: string): Promise<string> {
    return this.storage.choiceFor(projectId);
  }

  /** The storage instance named `name`, opened. */
  open(name: string): Promise<ObjectStore> {
    return this.storage.open(name);
  }

  /**
   * Which of `sha256s` the project does not hold in its storage instance, in the order given, each
   * once. Throws INVALID_ARGUMENT naming `field[i]` for a digest that is not 64 lowercase hex, and
   * for more than {@link MAX_DIGESTS_PER_CALL} digests.
   */
  async missing(projectId: string, sha256s: readonly string[], field = 'sha256s'): Promise<string[]> {
    return this.missingIn(projectId, await this.storeNameFor(projectId), sha256s, field);
  }

  /**
   * Which of `sha256s` the project does not hold in the instance `storeName`, in the order given,
   * each once; checked as in `missing`. A blob only other projects hold is missing: knowing a
   * digest gives a project neither the knowledge that it is stored nor its bytes.
   */
  async missingIn(projectId: string, storeName: string, sha256s: readonly string[], field = 'sha256s'): Promise<string[]> {
    if (sha256s.length > MAX_DIGESTS_PER_CALL) throw new InvalidArgumentError(`at most ${MAX_DIGESTS_PER_CALL} digests per call (got ${sha256s.length})`, field);
    sha256s.forEach((sha256, index) => checkSha256(sha256, `${field}[${index}]`));
    const unique = [...new Set(sha256s)];
    const held = await this.repository.heldOf(projectId, storeName, unique);
    return unique.filter((sha256) => !held.has(sha256));
  }
}

import { Injectable } from '@nestjs/common';
import { FailedPreconditionError, ProjectEncryption } from '@trellis/platform';
import type { KeyManager } from '@trellis/plugin-sdk';
import { VersionKmsRepository } from './version-kms.repository';

/** How long the KMS instance of a version is reused before its row is read again. */
const KMS_CACHE_MS = 30_000;

/** `models/<project_id>/<model id>/<version>/`: the version a key of the registry's store belongs to. */
const VERSION_KEY = /^models\/[^/]+\/(\d+)\/(\d+)\//;

/**
 * Which KMS instance encrypts the file at a key of the registry's store: the one its version
 * recorded when it was created (its project asked for encryption at rest, or it copies an
 * encrypted version), or none when the version's copy is in the clear.
 */
@Injectable()
export class VersionEncryption {
  private readonly kmsNames = new Map<string, { name: string | null; until: number }>();

  constructor(
    private readonly encryption: ProjectEncryption,
    private readonly versions: VersionKmsRepository,
  ) {}

  /** The KMS instance of the version `key` belongs to; null when its copy is in the clear. */
  async keyManagerOf(key: string): Promise<KeyManager | null> {
    const match = VERSION_KEY.exec(key);
    if (!match) throw new FailedPreconditionError(`"${key}" is not the key of a version's file`);
    const prefix = match[0];
    let cached = this.kmsNames.get(prefix);
    if (!cached || cached.until < Date.now()) {
      const name = await this.versions.kmsOf(Number(match[1]), Number(match[2]));
      // A version deleted meanwhile: nothing may be written for it, in the clear or not.
      if (name === undefined) throw new FailedPreconditionError(`the version of "${key}" no longer exists`);
      if (this.kmsNames.size > 10_000) this.kmsNames.clear();
      cached = { name, until: Date.now() + KMS_CACHE_MS };
      this.kmsNames.set(prefix, cached);
    }
    return cached.name === null ? null : this.encryption.keyManager(cached.name);
  }
}

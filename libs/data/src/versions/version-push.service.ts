import { Injectable } from '@nestjs/common';
import { type Caller, InvalidArgumentError, ResourceExhaustedError, tarFiles, TarFormatError } from '@trellis/platform';
import { BlobIntake } from '../blobs/blob-intake';
import { BlobStore } from '../blobs/blob-store';
import type { VersionView } from './version.entity';
import { checkPath, type CommitHeader, MAX_FILES_PER_VERSION, type ManifestFile } from './version-rules';
import { VersionService } from './version.service';

/** A version pushed from an archive, and what its files added to storage. */
export interface PushedVersion {
  view: VersionView;
  /** Distinct contents written now; the others were stored already. */
  blobsWritten: number;
  bytesWritten: number;
}

/**
 * Commits a directory sent as a tar archive: each file is stored under its digest as it arrives,
 * then the version is committed as CommitDatasetVersion commits (one transaction, same checks,
 * event and audit record). The header and the caller's right to commit are checked before a byte
 * is stored.
 */
@Injectable()
export class VersionPushService {
  constructor(
    private readonly versions: VersionService,
    private readonly blobs: BlobStore,
    private readonly intake: BlobIntake,
  ) {}

  async push(caller: Caller, header: CommitHeader, archive: AsyncIterable<Uint8Array>): Promise<PushedVersion> {
    const dataset = await this.versions.checkCommitHeader(caller, header);
    const storeName = await this.blobs.storeNameFor(dataset.projectId);
    const put: ManifestFile[] = [];
    const written = new Set<string>();
    let bytesWritten = 0;
    try {
      for await (const file of tarFiles(archive)) {
        checkPath(file.path, 'chunk');
        if (put.length === MAX_FILES_PER_VERSION) throw new ResourceExhaustedError(`a version holds at most ${MAX_FILES_PER_VERSION} files; the archive holds more`);
        const blob = await this.intake.store(dataset.projectId, storeName, file.size, file.body);
        if (blob.written && !written.has(blob.sha256)) {
          written.add(blob.sha256);
          bytesWritten += blob.size;
        }
        put.push({ path: file.path, size: blob.size, sha256: blob.sha256, mediaType: '' });
      }
    } catch (error) {
      throw error instanceof TarFormatError ? new InvalidArgumentError(error.message, 'chunk', { reason: 'TAR_INVALID' }) : error;
    }
    const view = await this.versions.commit(caller, { ...header, put, removedPaths: [] });
    return { view, blobsWritten: written.size, bytesWritten };
  }
}

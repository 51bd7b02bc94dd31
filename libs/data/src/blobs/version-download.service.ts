import { Injectable } from '@nestjs/common';
import { type Caller, checkRequired, excerpt, InvalidArgumentError, NotFoundError } from '@trellis/platform';
import type { Readable } from 'node:stream';
import { DATASET_KIND } from '../datasets/dataset.service';
import type { VersionEntity } from '../versions/version.entity';
import { VersionRepository } from '../versions/version.repository';
import { blobKey, BlobStore } from './blob-store';
import { tarStream, type TarEntry } from './tar-stream';

/** Files read from the database per page while an archive streams. */
const FILES_PER_PAGE = 500;

/** The bytes of a dataset version's files: one file (or a range), or the whole version as a tar stream. */
@Injectable()
export class VersionDownloadService {
  constructor(
    private readonly versions: VersionRepository,
    private readonly blobs: BlobStore,
  ) {}

  /** One file of a live version, or `length` bytes of it from `offset` (0: to the end). */
  async file(caller: Caller, datasetId: string, number: number, path: string, offset: number, length: number): Promise<Readable> {
    checkRequired(path, 'path');
    if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidArgumentError('must be a byte offset of 0 or more', 'offset');
    if (!Number.isSafeInteger(length) || length < 0) throw new InvalidArgumentError('must be a byte count of 0 (to the end) or more', 'length');
    const version = await this.liveVersion(caller, datasetId, number);
    const [file] = await this.versions.transaction((tx) => this.versions.pageFiles(tx, version.id, path, undefined, 1));
    if (!file || file.path !== path) throw new NotFoundError(`version ${number} of dataset ${excerpt(datasetId)} has no file "${excerpt(path)}"`, { reason: 'FILE_NOT_FOUND' });
    if (offset > 0 && offset >= file.size) throw new InvalidArgumentError(`starts past the end of the file's ${file.size} bytes`, 'offset');
    const store = await this.blobs.open(version.storeName);
    const range = offset === 0 && length === 0 ? undefined : { offset, ...(length > 0 ? { length } : {}) };
    return store.get(blobKey(file.sha256), range ? { range } : {});
  }

  /** The live version's files under `prefix` as a tar archive, streamed file by file in path order. */
  async tar(caller: Caller, datasetId: string, number: number, prefix: string): Promise<AsyncGenerator<Buffer>> {
    const version = await this.liveVersion(caller, datasetId, number);
    const store = await this.blobs.open(version.storeName);
    const versions = this.versions;
    async function* entries(): AsyncGenerator<TarEntry> {
      let after: string | undefined;
      for (;;) {
        const page = await versions.transaction((tx) => versions.pageFiles(tx, version.id, prefix, after, FILES_PER_PAGE));
        for (const file of page) yield { path: file.path, size: file.size, mtimeMs: version.createdAt, open: () => store.get(blobKey(file.sha256)) };
        if (page.length < FILES_PER_PAGE) return;
        after = page[page.length - 1].path;
      }
    }
    return tarStream(entries());
  }

  /** The live version, if the caller may read its dataset; NOT_FOUND otherwise, so other projects' ids tell nothing. */
  private async liveVersion(caller: Caller, datasetId: string, number: number): Promise<VersionEntity> {
    checkRequired(datasetId, 'dataset_id');
    return this.versions.transaction(async (tx) => {
      const dataset = await this.versions.findDataset(tx, datasetId);
      if (!dataset || !caller.can('read', DATASET_KIND, { projectId: dataset.projectId, id: dataset.id })) {
        throw new NotFoundError(`dataset ${excerpt(datasetId)} not found`, { reason: 'DATASET_NOT_FOUND' });
      }
      const version = await this.versions.findVersion(tx, datasetId, number);
      if (!version) throw new NotFoundError(`dataset ${excerpt(datasetId)} has no live version ${number}`, { reason: 'VERSION_NOT_FOUND' });
      return version;
    });
  }
}

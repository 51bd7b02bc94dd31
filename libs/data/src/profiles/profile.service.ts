import { Injectable } from '@nestjs/common';
import { type Caller, InvalidArgumentError } from '@trellis/platform';
import { VersionService } from '../versions/version.service';
import type { BlobProfileEntity } from './profile.entity';
import { ProfileRepository, type VersionProfileCounts } from './profile.repository';
import type { TableProfile, TabularFormat } from './profile.types';
import { tabularFormatOf } from './tabular-format';

/** Files per page of GetVersionProfile when the request names no size, and at most. */
export const PROFILE_PAGE_SIZE = 20;
export const MAX_PROFILE_PAGE_SIZE = 100;

/** Where a file's profile stands, as GetVersionProfile reports it. */
export type FileProfileStatus = 'pending' | 'ready' | 'failed' | 'skipped';

/** One file of a version with its profile. */
export interface FileProfileView {
  path: string;
  status: FileProfileStatus;
  message: string;
  format?: TabularFormat;
  profile?: TableProfile;
}

/** The profiles of a version's files: its listing (with the versions' access rules) joined with the blobs' profiles. */
@Injectable()
export class ProfileService {
  constructor(
    private readonly versions: VersionService,
    private readonly repository: ProfileRepository,
  ) {}

  /** A page of the version's files under `prefix` with their profiles; NOT_FOUND and INVALID_ARGUMENT as ListDatasetVersionFiles. */
  async versionProfile(
    caller: Caller,
    datasetId: string,
    number: number,
    prefix: string,
    query: { pageSize: number; pageToken: string },
  ): Promise<{ items: FileProfileView[]; nextPageToken: string; status: FileProfileStatus; counts: VersionProfileCounts }> {
    if (!Number.isInteger(query.pageSize) || query.pageSize < 0 || query.pageSize > MAX_PROFILE_PAGE_SIZE) {
      throw new InvalidArgumentError(`must be between 0 and ${MAX_PROFILE_PAGE_SIZE}`, 'page_size');
    }
    const { version } = await this.versions.get(caller, datasetId, number);
    const page = await this.versions.files(caller, datasetId, number, prefix, { pageSize: query.pageSize || PROFILE_PAGE_SIZE, pageToken: query.pageToken });
    const keys = page.items.flatMap((file) => {
      const format = tabularFormatOf(file.path);
      return format ? [{ sha256: file.sha256, format }] : [];
    });
    // Counts first: a file's status only moves on from pending, so every row read after them is at
    // least as far along as the version status says (rows read first could lag behind it).
    const counts = await this.repository.versionCounts(version.id);
    const rows = await this.repository.find(keys);
    const items = page.items.map((file): FileProfileView => {
      const format = tabularFormatOf(file.path);
      if (!format) return { path: file.path, status: 'skipped', message: '' };
      return { path: file.path, format, ...viewOf(rows.get(`${file.sha256}/${format}`)) };
    });
    return { items, nextPageToken: page.nextPageToken, status: versionStatus(counts), counts };
  }
}

function versionStatus({ tabular, ready, failed }: VersionProfileCounts): FileProfileStatus {
  if (tabular === 0) return 'skipped';
  if (ready + failed < tabular) return 'pending';
  return failed > 0 ? 'failed' : 'ready';
}

function viewOf(row: BlobProfileEntity | undefined): Pick<FileProfileView, 'status' | 'message' | 'profile'> {
  if (!row || row.status === 'pending') return { status: 'pending', message: '' };
  if (row.status === 'failed') return { status: 'failed', message: row.message };
  return { status: 'ready', message: row.message, profile: JSON.parse(row.profile ?? 'null') as TableProfile };
}

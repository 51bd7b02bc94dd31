import { create } from '@bufbuild/protobuf';
import { Injectable } from '@nestjs/common';
import {
  AuditRecorder,
  type Caller,
  checkLength,
  checkNoNul,
  checkRequired,
  decodePageToken,
  excerpt,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  Outbox,
  pageOf,
  pageSizeOf,
  resourceName,
  ResourceExhaustedError,
  SEQUENCE_POSITION,
} from '@trellis/platform';
import { DatasetVersionCommittedEventSchema, DatasetVersionDeletedEventSchema } from '@trellis/proto/trellis/data/v1/events_pb';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { BlobRepository } from '../blobs/blob.repository';
import { BlobStore, MAX_DIGESTS_PER_CALL } from '../blobs/blob-store';
import { dataEvents } from '../data.events';
import type { DatasetEntity } from '../datasets/dataset.entity';
import { DATASET_KIND } from '../datasets/dataset.service';
import type { VersionEntity, VersionFileEntity, VersionView } from './version.entity';
import { versionToProto } from './version.mapping';
import { VersionRepository, type FileChangeRow } from './version.repository';
import { checkManifestFile, checkPath, checkTag, type CommitHeader, MAX_FILES_PER_VERSION, parseReference, type ManifestFile } from './version-rules';

/** The resource kind of dataset versions in permission rules and audit records. */
export const VERSION_KIND = 'DatasetVersion';

/** How many missing digests a refused commit names. */
const MISSING_NAMED = 5;

/** What a commit sends: its header and every change of its stream. */
export interface NewVersion extends CommitHeader {
  put: ManifestFile[];
  removedPaths: string[];
}

/** One page of a listing. */
export interface Page<T> {
  items: T[];
  /** Empty on the last page. */
  nextPageToken: string;
}

/** Which page of a listing. */
export interface PageQuery {
  pageSize: number;
  pageToken: string;
}

/**
 * Dataset versions: commits written whole in one transaction with their event and audit record,
 * references, listings, diffs, tags and deletion marks.
 */
@Injectable()
export class VersionService {
  constructor(
    private readonly repository: VersionRepository,
    private readonly blobs: BlobStore,
    private readonly blobRecords: BlobRepository,
    private readonly audit: AuditRecorder,
    private readonly outbox: Outbox,
  ) {}

  /**
   * Commits a version. Two commits on the same parent both succeed, as siblings: the dataset's
   * row lock hands out numbers one commit at a time, and neither commit reads the other's files.
   */
  async commit(caller: Caller, input: NewVersion): Promise<VersionView> {
    checkHeader(input);
    if (input.removedPaths.length && (input.parentVersion === 0 || input.fullManifest)) {
      throw new InvalidArgumentError('removes paths, which only a commit of changes to a parent can (set parent_version, leave full_manifest unset)', 'removed_paths');
    }
    checkChanges(input);
    const dataset = await this.committable(caller, input.datasetId);
    const storeName = await this.blobs.storeNameFor(dataset.projectId);
    const digests = [...new Set(input.put.map((file) => file.sha256))];
    await this.checkStored(dataset.projectId, storeName, digests);
    const putPaths = input.put.map((file) => file.path);
    return this.repository.transaction(async (tx) => {
      const locked = visible(caller, await this.repository.lockDataset(tx, input.datasetId), input.datasetId);
      const parent = input.parentVersion ? await this.liveVersion(tx, locked, input.parentVersion, 'header.parent_version') : null;
      const now = Date.now();
      const number = locked.lastVersion + 1;
      await this.repository.setLastVersion(tx, locked.id, number, now);
      const version: VersionEntity = {
        id: randomUUID(),
        datasetId: locked.id,
        number,
        parentNumber: parent?.number ?? 0,
        message: input.message,
        authorId: caller.authenticated.id,
        createdAt: now,
        fileCount: 0,
        totalBytes: 0,
        storeName,
        deletedAt: null,
      };
      await this.repository.insertVersion(tx, version);
      if (parent && !input.fullManifest) {
        const held = await this.repository.countPaths(tx, parent.id, input.removedPaths);
        if (held !== input.removedPaths.length) {
          throw new InvalidArgumentError(`${input.removedPaths.length - held} of the paths to remove are not in version ${parent.number}`, 'removed_paths');
        }
        await this.repository.copyFiles(tx, parent.id, version.id, [...input.removedPaths, ...putPaths]);
      }
      await this.repository.insertFiles(tx, version.id, input.put);
      Object.assign(version, await this.repository.totals(tx, version.id));
      if (version.fileCount > MAX_FILES_PER_VERSION) throw new ResourceExhaustedError(`a version holds at most ${MAX_FILES_PER_VERSION} files; this one would hold ${version.fileCount}`);
      await this.repository.setTotals(tx, version.id, { fileCount: version.fileCount, totalBytes: version.totalBytes });
      // Garbage collection spares blobs referenced recently: a blob this commit names cannot go between the check above and this transaction's end.
      await this.blobRecords.touch(tx, locked.projectId, storeName, digests, now);
      for (const tag of input.tags) await this.tag(tx, locked, version, tag, false, now);
      const view = { version, dataset: locked, tags: [...input.tags].sort() };
      await this.outbox.publish(tx, dataEvents, {
        subject: 'trellis.data.v1.version.committed',
        message: create(DatasetVersionCommittedEventSchema, { version: versionToProto(view) }),
        ...contextOf(caller, locked.projectId),
      });
      await this.audit.recordIn(tx, caller, { id: String(number), projectId: locked.projectId, name: nameOf(locked, number) });
      return view;
    });
  }

  /**
   * The dataset a commit with this header writes, once the header is well formed and the caller
   * may commit there: for a commit whose files are stored as they arrive, so that a refused one
   * stores nothing. The commit checks all of it again.
   */
  async checkCommitHeader(caller: Caller, header: CommitHeader): Promise<DatasetEntity> {
    checkHeader(header);
    const dataset = await this.committable(caller, header.datasetId);
    if (header.parentVersion) await this.repository.transaction((tx) => this.liveVersion(tx, dataset, header.parentVersion, 'header.parent_version'));
    return dataset;
  }

  /** The live version `number` of the dataset. */
  async get(caller: Caller, datasetId: string, number: number): Promise<VersionView> {
    checkRequired(datasetId, 'dataset_id');
    return this.repository.transaction(async (tx) => {
      const dataset = visible(caller, await this.repository.findDataset(tx, datasetId), datasetId);
      const version = await this.liveVersion(tx, dataset, number, 'version');
      caller.assert('read', VERSION_KIND, { projectId: dataset.projectId, name: nameOf(dataset, number) });
      return this.viewOf(tx, dataset, version);
    });
  }

  /** The live version a reference names in the project: `datasets:/<name>/<n>` or `datasets:/<name>@<tag>`. */
  async resolve(caller: Caller, projectId: string, reference: string): Promise<VersionView> {
    checkRequired(projectId, 'project_id');
    checkRequired(reference, 'reference');
    caller.assert('read', VERSION_KIND, { projectId });
    const parsed = parseReference(reference);
    return this.repository.transaction(async (tx) => {
      const dataset = await this.repository.findDatasetByName(tx, projectId, parsed.datasetName);
      if (!dataset) throw new NotFoundError(`project ${projectId} has no dataset named "${excerpt(parsed.datasetName)}"`, { reason: 'DATASET_NOT_FOUND' });
      if (parsed.version !== undefined) return this.viewOf(tx, dataset, await this.liveVersion(tx, dataset, parsed.version, 'reference'));
      const tag = await this.repository.findTag(tx, dataset.id, parsed.tag);
      const version = tag && (await this.repository.findVersionById(tx, tag.versionId));
      if (!version) throw new NotFoundError(`dataset "${excerpt(dataset.name)}" has no tag "${parsed.tag}"`, { reason: 'TAG_NOT_FOUND', resource: nameOf(dataset) });
      return this.viewOf(tx, dataset, version);
    });
  }

  /**
   * The live version a reference names in the project, or null, with no permission check: for the
   * service's own work (lineage resolving a run's dataset input), never for a caller's request.
   * INVALID_ARGUMENT for a reference of another form.
   */
  async lookUp(projectId: string, reference: string): Promise<VersionView | null> {
    const parsed = parseReference(reference);
    return this.repository.transaction(async (tx) => {
      const dataset = await this.repository.findDatasetByName(tx, projectId, parsed.datasetName);
      if (!dataset) return null;
      const tag = parsed.tag === undefined ? null : await this.repository.findTag(tx, dataset.id, parsed.tag);
      const version = parsed.version !== undefined ? await this.repository.findVersion(tx, dataset.id, parsed.version) : tag && (await this.repository.findVersionById(tx, tag.versionId));
      return version ? this.viewOf(tx, dataset, version) : null;
    });
  }

  /** A page of the dataset's live versions, newest first. */
  async list(caller: Caller, datasetId: string, query: PageQuery): Promise<Page<VersionView>> {
    checkRequired(datasetId, 'dataset_id');
    const size = pageSizeOf(query.pageSize);
    const listing = { datasetId };
    const before = decodePageToken(query.pageToken, listing, SEQUENCE_POSITION);
    return this.repository.transaction(async (tx) => {
      const dataset = visible(caller, await this.repository.findDataset(tx, datasetId), datasetId);
      caller.assert('read', VERSION_KIND, { projectId: dataset.projectId, name: nameOf(dataset) });
      const rows = await this.repository.pageVersions(tx, datasetId, before === undefined ? undefined : Number(before), size + 1);
      const { items, nextPageToken } = pageOf(rows, size, (row) => String(row.number), listing);
      const tags = await this.repository.tagsOf(tx, items.map((item) => item.id));
      return { items: items.map((version) => ({ version, dataset, tags: tags.get(version.id) ?? [] })), nextPageToken };
    });
  }

  /** A page of the version's files under `prefix`, in path order. */
  async files(caller: Caller, datasetId: string, number: number, prefix: string, query: PageQuery): Promise<Page<VersionFileEntity>> {
    checkRequired(datasetId, 'dataset_id');
    checkLength(prefix, 1024, 'path_prefix');
    checkNoNul(prefix, 'path_prefix');
    const size = pageSizeOf(query.pageSize);
    const listing = { datasetId, number, prefix };
    const after = decodePageToken(query.pageToken, listing);
    return this.repository.transaction(async (tx) => {
      const dataset = visible(caller, await this.repository.findDataset(tx, datasetId), datasetId);
      const version = await this.liveVersion(tx, dataset, number, 'version');
      caller.assert('read', VERSION_KIND, { projectId: dataset.projectId, name: nameOf(dataset, number) });
      const rows = await this.repository.pageFiles(tx, version.id, prefix, after, size + 1);
      return pageOf(rows, size, (row) => row.path, listing);
    });
  }

  /** A page of the paths that differ from version `from` (0: an empty version) to `to`, in path order. */
  async diff(caller: Caller, datasetId: string, from: number, to: number, query: PageQuery): Promise<Page<FileChangeRow>> {
    checkRequired(datasetId, 'dataset_id');
    const size = pageSizeOf(query.pageSize);
    const listing = { datasetId, from, to };
    const after = decodePageToken(query.pageToken, listing);
    return this.repository.transaction(async (tx) => {
      const dataset = visible(caller, await this.repository.findDataset(tx, datasetId), datasetId);
      const older = from === 0 ? null : await this.liveVersion(tx, dataset, from, 'from_version');
      const newer = await this.liveVersion(tx, dataset, to, 'to_version');
      caller.assert('read', VERSION_KIND, { projectId: dataset.projectId, name: nameOf(dataset, to) });
      const rows = await this.repository.pageDiff(tx, older?.id ?? '', newer.id, after, size + 1);
      return pageOf(rows, size, (row) => row.path, listing);
    });
  }

  /** Names the version with `tag`; a tag on another version moves only when `move` is set. */
  async setTag(caller: Caller, datasetId: string, number: number, tag: string, move: boolean): Promise<VersionView> {
    checkRequired(datasetId, 'dataset_id');
    checkTag(tag, 'tag');
    return this.repository.transaction(async (tx) => {
      const dataset = visible(caller, await this.repository.lockDataset(tx, datasetId), datasetId);
      const version = await this.liveVersion(tx, dataset, number, 'version');
      caller.assert('update', VERSION_KIND, { projectId: dataset.projectId, name: `${nameOf(dataset)}/tags/${tag}` });
      await this.tag(tx, dataset, version, tag, move, Date.now());
      await this.audit.recordIn(tx, caller);
      return this.viewOf(tx, dataset, version);
    });
  }

  /** Removes the tag from the dataset. */
  async deleteTag(caller: Caller, datasetId: string, tag: string): Promise<void> {
    checkRequired(datasetId, 'dataset_id');
    checkRequired(tag, 'tag');
    await this.repository.transaction(async (tx) => {
      const dataset = visible(caller, await this.repository.lockDataset(tx, datasetId), datasetId);
      caller.assert('update', VERSION_KIND, { projectId: dataset.projectId, name: `${nameOf(dataset)}/tags/${excerpt(tag)}` });
      if (!(await this.repository.findTag(tx, datasetId, tag, true))) {
        throw new NotFoundError(`dataset "${excerpt(dataset.name)}" has no tag "${excerpt(tag)}"`, { reason: 'TAG_NOT_FOUND', resource: nameOf(dataset) });
      }
      await this.repository.deleteTag(tx, datasetId, tag);
      await this.audit.recordIn(tx, caller);
    });
  }

  /** Marks the version deleted, drops its tags, and says so in an event; its blobs wait for garbage collection. */
  async delete(caller: Caller, datasetId: string, number: number): Promise<void> {
    checkRequired(datasetId, 'dataset_id');
    await this.repository.transaction(async (tx) => {
      const dataset = visible(caller, await this.repository.lockDataset(tx, datasetId), datasetId);
      const version = await this.liveVersion(tx, dataset, number, 'version');
      caller.assert('delete', VERSION_KIND, { projectId: dataset.projectId, name: nameOf(dataset, number) });
      const view = await this.viewOf(tx, dataset, version);
      await this.repository.markVersionDeleted(tx, version.id, Date.now());
      await this.outbox.publish(tx, dataEvents, {
        subject: 'trellis.data.v1.version.deleted',
        message: create(DatasetVersionDeletedEventSchema, { version: versionToProto(view) }),
        ...contextOf(caller, dataset.projectId),
      });
      await this.audit.recordIn(tx, caller);
    });
  }

  /** The dataset, if the caller may commit versions of it. */
  private async committable(caller: Caller, datasetId: string): Promise<DatasetEntity> {
    const dataset = visible(caller, await this.repository.transaction((tx) => this.repository.findDataset(tx, datasetId)), datasetId);
    caller.assert('create', VERSION_KIND, { projectId: dataset.projectId, name: resourceName(['projects', dataset.projectId], ['datasets', dataset.name], ['versions', 'new']) });
    return dataset;
  }

  /** Refuses the commit when the project does not hold any of `digests` in the instance, naming the first few. */
  private async checkStored(projectId: string, storeName: string, digests: readonly string[]): Promise<void> {
    const missing: string[] = [];
    for (let start = 0; start < digests.length; start += MAX_DIGESTS_PER_CALL) {
      missing.push(...(await this.blobs.missingIn(projectId, storeName, digests.slice(start, start + MAX_DIGESTS_PER_CALL))));
    }
    if (missing.length === 0) return;
    const named = missing.slice(0, MISSING_NAMED).join(', ');
    throw new FailedPreconditionError(
      `${missing.length} of the version's ${digests.length} blobs are not stored in storage instance "${storeName}" (${named}${missing.length > MISSING_NAMED ? ', ...' : ''}); upload them first`,
      { reason: 'BLOBS_MISSING' },
    );
  }

  /** Points `tag` at `version`, refusing to move it from another version unless `move`. */
  private async tag(tx: EntityManager, dataset: DatasetEntity, version: VersionEntity, tag: string, move: boolean, now: number): Promise<void> {
    const current = await this.repository.findTag(tx, dataset.id, tag, true);
    if (current && current.versionId !== version.id && !move) {
      const named = await this.repository.findVersionById(tx, current.versionId);
      throw new FailedPreconditionError(`tag "${tag}" names version ${named?.number ?? '?'} of dataset "${excerpt(dataset.name)}"; set move to move it`, {
        reason: 'TAG_TAKEN',
        resource: `${nameOf(dataset)}/tags/${tag}`,
      });
    }
    await this.repository.setTag(tx, dataset.id, tag, version.id, now);
  }

  private async liveVersion(tx: EntityManager, dataset: DatasetEntity, number: number, field: string): Promise<VersionEntity> {
    if (!Number.isSafeInteger(number) || number < 1) throw new InvalidArgumentError(`must be a version number from 1, not ${number}`, field);
    const version = await this.repository.findVersion(tx, dataset.id, number);
    if (!version) throw new NotFoundError(`dataset "${excerpt(dataset.name)}" has no version ${number}`, { reason: 'VERSION_NOT_FOUND', resource: nameOf(dataset, number) });
    return version;
  }

  private async viewOf(tx: EntityManager, dataset: DatasetEntity, version: VersionEntity): Promise<VersionView> {
    return { version, dataset, tags: (await this.repository.tagsOf(tx, [version.id])).get(version.id) ?? [] };
  }
}

/**
 * The dataset when the caller may read it. One the caller may not read is NOT_FOUND, as a missing
 * one is, so that ids of other projects' datasets do not leak; what the caller may do to its
 * versions each method asserts.
 */
function visible(caller: Caller, dataset: DatasetEntity | null, id: string): DatasetEntity {
  if (!dataset || !caller.can('read', DATASET_KIND, { projectId: dataset.projectId, id: dataset.id })) {
    throw new NotFoundError(`dataset ${excerpt(id)} not found`, { reason: 'DATASET_NOT_FOUND' });
  }
  return dataset;
}

/** A commit's header well formed: a dataset, a message of at most 4096 characters, tags each valid and named once. */
function checkHeader(header: CommitHeader): void {
  checkRequired(header.datasetId, 'header.dataset_id');
  checkLength(header.message, 4096, 'header.message');
  checkNoNul(header.message, 'header.message');
  header.tags.forEach((tag, index) => checkTag(tag, `header.tags[${index}]`));
  if (new Set(header.tags).size !== header.tags.length) throw new InvalidArgumentError('names a tag twice', 'header.tags');
}

/** Every file and removed path well formed, no path sent twice, and no more files than a version may hold. */
function checkChanges(input: NewVersion): void {
  if (input.put.length > MAX_FILES_PER_VERSION) throw new ResourceExhaustedError(`a version holds at most ${MAX_FILES_PER_VERSION} files; the commit sends ${input.put.length}`);
  const seen = new Set<string>();
  input.put.forEach((file, index) => {
    checkManifestFile(file, `put[${index}]`);
    if (seen.has(file.path)) throw new InvalidArgumentError(`"${excerpt(file.path)}" is sent twice`, `put[${index}].path`);
    seen.add(file.path);
  });
  input.removedPaths.forEach((path, index) => {
    checkPath(path, `removed_paths[${index}]`);
    if (seen.has(path)) throw new InvalidArgumentError(`"${excerpt(path)}" is put or removed already in this commit`, `removed_paths[${index}]`);
    seen.add(path);
  });
}

/** The resource name of the dataset, or of one of its versions. */
function nameOf(dataset: DatasetEntity, version?: number): string {
  const name = resourceName(['projects', dataset.projectId], ['datasets', dataset.name]);
  return version === undefined ? name : `${name}/versions/${version}`;
}

/** Who caused an event, for its envelope. */
function contextOf(caller: Caller, projectId: string) {
  return { projectId, actor: caller.authenticated.id, requestId: caller.requestId };
}

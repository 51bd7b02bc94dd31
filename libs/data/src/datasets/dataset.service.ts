import { create } from '@bufbuild/protobuf';
import { Inject, Injectable } from '@nestjs/common';
import {
  AlreadyExistsError,
  AuditRecorder,
  type Action,
  type Caller,
  checkLength,
  checkNoControlCharacters,
  checkNoNul,
  checkRequired,
  checkUpdateMask,
  decodePageToken,
  excerpt,
  InvalidArgumentError,
  NotFoundError,
  Outbox,
  pageOf,
  pageSizeOf,
  ResourceExhaustedError,
  SERVICE_CONFIG,
} from '@trellis/platform';
import { DatasetCreatedEventSchema, DatasetDeletedEventSchema } from '@trellis/proto';
import { randomUUID } from 'node:crypto';
import type { DataConfig } from '../data.config';
import { dataEvents } from '../data.events';
import { DatasetEntity, type DatasetTag } from './dataset.entity';
import { datasetToProto } from './dataset.mapping';
import { DatasetRepository } from './dataset.repository';

/** The resource kind of datasets in permission rules and audit records. */
export const DATASET_KIND = 'Dataset';

/** The longest name and description, as resources.proto declares them. */
const LIMITS = { nameLength: 128, descriptionLength: 4096, tags: 50, tagKeyLength: 250, tagValueLength: 5000 };

/** The fields UpdateDataset may change, named in its update_mask. */
const UPDATABLE = ['description', 'tags'] as const;

/** What a new dataset needs. */
export interface NewDataset {
  projectId: string;
  name: string;
  description: string;
  tags: DatasetTag[];
}

/** What UpdateDataset changes: the fields its mask names. */
export interface DatasetUpdate {
  description: string;
  tags: DatasetTag[];
  updateMask: readonly string[];
}

/** A dataset with the number of its newest live version (0 for none). */
export interface DatasetView {
  dataset: DatasetEntity;
  latestVersion: number;
}

/** Which of a project's datasets to list, and which page. */
export interface DatasetListQuery {
  projectId: string;
  /** 0 means 100; more than 1000 means 1000. */
  pageSize: number;
  /** `nextPageToken` of the previous page, or empty for the first. */
  pageToken: string;
}

/** One page of datasets, in name order. */
export interface DatasetPage {
  datasets: DatasetView[];
  /** Empty on the last page. */
  nextPageToken: string;
}

/**
 * The datasets of each project: who may do what, and each change written with its event and
 * its audit record in one transaction.
 */
@Injectable()
export class DatasetService {
  constructor(
    private readonly repository: DatasetRepository,
    private readonly audit: AuditRecorder,
    private readonly outbox: Outbox,
    @Inject(SERVICE_CONFIG) private readonly config: DataConfig,
  ) {}

  /** Stores a new dataset by the caller; its name must be free in the project, and the project under its quota. */
  async create(caller: Caller, input: NewDataset): Promise<DatasetEntity> {
    checkRequired(input.projectId, 'project_id');
    caller.assert('create', DATASET_KIND, { projectId: input.projectId });
    checkName(input.name);
    checkDescription(input.description);
    checkTags(input.tags);
    return this.repository.transaction(async (tx) => {
      if (await this.repository.nameTaken(tx, input.projectId, input.name)) {
        throw new AlreadyExistsError(`project ${input.projectId} already has a dataset named "${excerpt(input.name)}"`, { reason: 'DATASET_NAME_TAKEN' });
      }
      const limit = this.config.maxDatasetsPerProject;
      if ((await this.repository.countIn(tx, input.projectId)) >= limit) {
        throw new ResourceExhaustedError(`project ${input.projectId} holds ${limit} datasets, the most services.data.maxDatasetsPerProject allows; delete one first`);
      }
      const now = Date.now();
      const dataset: DatasetEntity = { id: randomUUID(), ...input, creatorId: caller.authenticated.id, createdAt: now, updatedAt: now, lastVersion: 0, deletedAt: null };
      await this.repository.insert(tx, dataset);
      await this.outbox.publish(tx, dataEvents, {
        subject: 'trellis.data.v1.dataset.created',
        message: create(DatasetCreatedEventSchema, { dataset: datasetToProto(dataset) }),
        ...contextOf(caller, dataset.projectId),
      });
      await this.audit.recordIn(tx, caller, { id: dataset.id, projectId: dataset.projectId });
      return dataset;
    });
  }

  /** The live dataset, if the caller may read it. */
  async get(caller: Caller, id: string): Promise<DatasetView> {
    checkRequired(id, 'dataset_id');
    const dataset = visible(caller, await this.repository.findById(id), id, 'read');
    return { dataset, latestVersion: (await this.repository.latestVersions([id])).get(id) ?? 0 };
  }

  /** A page of the project's datasets, in name order. */
  async list(caller: Caller, query: DatasetListQuery): Promise<DatasetPage> {
    checkRequired(query.projectId, 'project_id');
    caller.assert('read', DATASET_KIND, { projectId: query.projectId });
    const size = pageSizeOf(query.pageSize);
    const listing = { projectId: query.projectId };
    const after = decodePageToken(query.pageToken, listing);
    const rows = await this.repository.page(query.projectId, after, size + 1);
    const { items, nextPageToken } = pageOf(rows, size, (row) => row.name, listing);
    const latest = await this.repository.latestVersions(items.map((item) => item.id));
    return { datasets: items.map((dataset) => ({ dataset, latestVersion: latest.get(dataset.id) ?? 0 })), nextPageToken };
  }

  /** Changes the fields the mask names (`*`: every field that can change) and nothing else. */
  async update(caller: Caller, id: string, update: DatasetUpdate): Promise<DatasetView> {
    checkRequired(id, 'dataset.id');
    const paths = update.updateMask.length === 1 && update.updateMask[0] === '*' ? UPDATABLE : update.updateMask;
    const mask = checkUpdateMask(paths, UPDATABLE);
    const changes: Partial<DatasetEntity> = {};
    if (mask.has('description')) {
      checkDescription(update.description, 'dataset.description');
      changes.description = update.description;
    }
    if (mask.has('tags')) {
      checkTags(update.tags, 'dataset.tags');
      changes.tags = update.tags;
    }
    return this.repository.transaction(async (tx) => {
      const dataset = visible(caller, await this.repository.lockById(tx, id), id, 'update');
      Object.assign(dataset, changes, { updatedAt: Date.now() });
      await this.repository.update(tx, id, { ...changes, updatedAt: dataset.updatedAt });
      await this.audit.recordIn(tx, caller);
      return { dataset, latestVersion: (await this.repository.latestVersions([id], tx)).get(id) ?? 0 };
    });
  }

  /** Marks the dataset and its versions deleted (their blobs wait for garbage collection) and says so in an event. */
  async delete(caller: Caller, id: string): Promise<void> {
    checkRequired(id, 'dataset_id');
    await this.repository.transaction(async (tx) => {
      const dataset = visible(caller, await this.repository.lockById(tx, id), id, 'delete');
      await this.repository.markDeleted(tx, id, Date.now());
      await this.outbox.publish(tx, dataEvents, {
        subject: 'trellis.data.v1.dataset.deleted',
        message: create(DatasetDeletedEventSchema, { dataset: datasetToProto(dataset) }),
        ...contextOf(caller, dataset.projectId),
      });
      await this.audit.recordIn(tx, caller);
    });
  }
}

/**
 * The dataset after checking that the caller may `action` it. One the caller may not even read
 * is NOT_FOUND, as a missing one is, so that ids of other projects' datasets do not leak.
 */
function visible(caller: Caller, dataset: DatasetEntity | null, id: string, action: Action): DatasetEntity {
  if (!dataset || !caller.can('read', DATASET_KIND, { projectId: dataset.projectId, id: dataset.id })) {
    throw new NotFoundError(`dataset ${excerpt(id)} not found`, { reason: 'DATASET_NOT_FOUND' });
  }
  caller.assert(action, DATASET_KIND, { projectId: dataset.projectId, id: dataset.id });
  return dataset;
}

/** Who caused an event, for its envelope. */
function contextOf(caller: Caller, projectId: string) {
  return { projectId, actor: caller.authenticated.id, requestId: caller.requestId };
}

/** A name: required, at most 128 characters, no control character (names show in lists and logs). */
function checkName(name: string): void {
  checkRequired(name.trim(), 'name');
  checkLength(name, LIMITS.nameLength, 'name');
  checkNoControlCharacters(name, 'name');
}

/** A description: at most 4096 characters, no NUL (which PostgreSQL cannot store). */
function checkDescription(description: string, field = 'description'): void {
  checkLength(description, LIMITS.descriptionLength, field);
  checkNoNul(description, field);
}

/** Tags: at most 50, each key 1 to 250 characters without control characters and unique, each value at most 5000 characters without NUL. */
function checkTags(tags: readonly DatasetTag[], field = 'tags'): void {
  if (tags.length > LIMITS.tags) throw new InvalidArgumentError(`holds ${tags.length} tags; the limit is ${LIMITS.tags}`, field);
  const keys = new Set<string>();
  tags.forEach(({ key, value }, index) => {
    checkRequired(key, `${field}[${index}].key`);
    checkLength(key, LIMITS.tagKeyLength, `${field}[${index}].key`);
    checkNoControlCharacters(key, `${field}[${index}].key`);
    checkLength(value, LIMITS.tagValueLength, `${field}[${index}].value`);
    checkNoNul(value, `${field}[${index}].value`);
    if (keys.has(key)) throw new InvalidArgumentError(`repeats the key "${excerpt(key)}"`, `${field}[${index}].key`);
    keys.add(key);
  });
}

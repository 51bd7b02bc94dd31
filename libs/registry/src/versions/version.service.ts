import type { Readable } from 'node:stream';
import { create } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import {
  AuditRecorder,
  type Caller,
  checkRequired,
  checkUpdateMask,
  decodePageToken,
  DomainError,
  encodePageToken,
  type ErrorDetails,
  FailedPreconditionError,
  forwardAs,
  InvalidArgumentError,
  LOGGER,
  type Logger,
  NotFoundError,
  Outbox,
  pageOf,
  pageSizeOf,
  ProjectEncryption,
  ServiceClients,
} from '@trellis/platform';
import { RunServiceDesc, VersionCreatedEventSchema, VersionSettledEventSchema } from '@trellis/proto';
import type { EntityManager } from 'typeorm';
import { ModelAccess, versionResourceName } from '../models/model-access';
import type { RegisteredModelEntity } from '../models/model.entity';
import { ModelRepository } from '../models/model.repository';
import { registryEvents } from '../registry.events';
import { positionOf } from '../common/page-position';
import { checkModelName, checkTag, checkTagKey, checkTags, checkText, lastWins, REGISTRY_LIMITS, versionOf, type Tag } from '../common/registry-limits';
import { storageUriOf, versionPathOf, versionPrefix } from '../version-files/version-file.paths';
import { INTERRUPTED, VersionFileService, type CopyJob, type CopySource, type VersionFileEntry } from '../version-files/version-file.service';
import { parseSource, type VersionSource } from './version-source.parser';
import { VersionWaiters, type WaitEnd } from './version-waiters';
import type { ModelVersionEntity, StoredLineage, StoredTensor, VersionStatusName } from './version.entity';
import { versionToProto, type VersionView } from './version.mapping';
import { VersionRepository, type VersionOfModel } from './version.repository';

/** What a new version needs. */
export interface NewVersion {
  projectId: string;
  name: string;
  source: string;
  runId: string;
  format: string;
  signature: { inputs: StoredTensor[]; outputs: StoredTensor[] } | null;
  description: string;
  tags: Tag[];
  /** A link to the run, kept as given. */
  runLink: string;
}

/** A search of versions as SearchVersions asks it: in the projects named, or all the caller may read when none are. */
export interface VersionQuery {
  projectIds: string[];
  nameLike: string;
  runIds: string[];
  tags: Tag[];
  pageSize: number;
  pageToken: string;
}

/** What UpdateVersion changes: the version (named by project, model name and number, with the new values) and the paths of the fields to change. */
export interface VersionUpdate {
  version?: { projectId: string; name: string; version: bigint; description: string };
  updateMask: readonly string[];
}

/** The fields UpdateVersion may change, named in its update_mask. */
const UPDATABLE = ['description'] as const;

/** A page of a version's directory, as ListVersionFiles asks for it. */
export interface FileQuery {
  projectId: string;
  name: string;
  version: bigint;
  path: string;
  pageSize: number;
  pageToken: string;
}

/** How a wait ends with the version still PENDING: DEADLINE_EXCEEDED at the call's deadline, CANCELLED when the client left. */
class WaitEndedError extends DomainError {
  constructor(
    readonly code: status.DEADLINE_EXCEEDED | status.CANCELLED,
    message: string,
    details: ErrorDetails = {},
  ) {
    super(message, details);
  }
}

const RUN_ID = /^[a-zA-Z0-9][\w-]{0,63}$/;

/** Versions: create (copying files in the background), read, update, delete, tags, search, lineage, files. */
@Injectable()
export class VersionService implements OnModuleInit {
  constructor(
    private readonly versions: VersionRepository,
    private readonly models: ModelRepository,
    private readonly audit: AuditRecorder,
    private readonly outbox: Outbox,
    private readonly access: ModelAccess,
    private readonly files: VersionFileService,
    private readonly clients: ServiceClients,
    private readonly waiters: VersionWaiters,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly encryption: ProjectEncryption,
  ) {}

  /**
   * Copies do not survive a restart: what a stopped process left PENDING becomes FAILED, with its
   * settled event, and its partial files go. One registry process per database is assumed; a
   * second one starting would fail the first's copies.
   */
  async onModuleInit(): Promise<void> {
    const stranded = await this.versions.transaction(async (tx) => {
      const pending = await this.versions.pending(tx);
      for (const { version } of pending) await this.recordSettled(tx, version.modelId, version.version, 'FAILED', INTERRUPTED, {});
      return pending;
    });
    if (stranded.length === 0) return;
    this.logger.warn({ versions: stranded.length }, 'versions left PENDING by the last run are now FAILED');
    // Their partial copies go too, without holding up the start.
    void Promise.all(stranded.map(({ version, model }) => version.artifactStore && this.files.deleteUnder(version.artifactStore, versionPrefix(model.projectId, model.id, version.version))));
  }

  /**
   * Adds the model's next version. A runs:/ or models:/ source leaves it PENDING while its files are
   * copied in the background; any other source is kept as a reference and is READY at once.
   */
  async create(caller: Caller, input: NewVersion): Promise<VersionView> {
    checkRequired(input.projectId, 'project_id');
    checkModelName(input.name, 'model_name');
    checkText(input.source, REGISTRY_LIMITS.sourceLength, 'source');
    const source = parseSource(input.source);
    checkText(input.format, REGISTRY_LIMITS.formatLength, 'format');
    checkText(input.description, REGISTRY_LIMITS.descriptionLength, 'description');
    checkText(input.runLink, REGISTRY_LIMITS.runLinkLength, 'run_link');
    checkTags(input.tags);
    checkSignature(input.signature);
    if (input.runId && !RUN_ID.test(input.runId)) throw new InvalidArgumentError(`"${input.runId}" is not a run id`, 'run_id');
    if (source.kind === 'run' && input.runId && input.runId !== source.runId) {
      throw new InvalidArgumentError(`names run ${input.runId}, but the source names run ${source.runId}`, 'run_id');
    }
    const target = { action: 'create', kind: 'ModelVersion' } as const;
    // Checked before tracking is asked anything on the caller's behalf.
    await this.access.require(caller, input.projectId, input.name, target);
    const runId = source.kind === 'run' ? source.runId : input.runId;
    const run = runId ? await this.readRun(caller, runId, input.projectId) : null;
    const lineage = run?.lineage ?? null;
    if (source.kind === 'run' && source.experimentId && lineage?.experimentId !== source.experimentId) {
      throw new InvalidArgumentError(`names experiment ${source.experimentId}, but run ${runId} is in experiment ${lineage?.experimentId}`, 'source');
    }
    // Read before the transaction: a version keeps for life whether its copy is encrypted, and a
    // copy of an encrypted run stays encrypted whatever its project now asks.
    const kms = source.kind === 'reference' ? null : await this.encryption.kmsFor(caller, input.projectId, { encrypted: run?.artifactsEncrypted && source.kind === 'run' });
    // So is the storage instance a copy goes to: the one its project chose for the registry now.
    const store = await this.files.storeFor(input.projectId);

    const { view, job } = await this.versions.transaction(async (tx) => {
      const model = await this.access.lock(tx, caller, input.projectId, input.name, target);
      const number = model.latestVersion + 1;
      const prefix = versionPrefix(model.projectId, model.id, number);
      const origin = await this.originOf(tx, model, source, store, prefix, caller, lineage);
      const now = Date.now();
      const version: ModelVersionEntity = {
        modelId: model.id,
        version: number,
        source: input.source,
        runId: origin.lineage?.runId ?? null,
        status: origin.copy ? 'PENDING' : 'READY',
        statusMessage: '',
        format: input.format,
        signature: input.signature,
        description: input.description,
        runLink: input.runLink,
        storageUri: origin.storageUri,
        artifactStore: origin.copy ? store : null,
        artifactKms: origin.copy ? (kms ?? origin.kms ?? null) : null,
        lineage: origin.lineage,
        creatorId: caller.authenticated.id,
        createdAt: now,
        updatedAt: now,
      };
      const tags = lastWins(input.tags);
      await this.versions.insert(tx, version, tags);
      await this.models.update(tx, model.id, { latestVersion: number, updatedAt: now });
      const view: VersionView = { version, model, tags, aliases: [] };
      await this.outbox.publish(tx, registryEvents, {
        subject: 'trellis.registry.v1.version.created',
        message: create(VersionCreatedEventSchema, { version: versionToProto(view) }),
        projectId: model.projectId,
        actor: caller.authenticated.id,
        requestId: caller.requestId,
      });
      await this.audit.recordIn(tx, caller, { id: String(number), projectId: model.projectId, name: versionResourceName(model.projectId, model.name, number) });
      const settle = (outcome: VersionStatusName, message: string) => this.settle(caller, model.id, number, outcome, message);
      const job: CopyJob | undefined = origin.copy && { modelId: model.id, version: number, store, prefix, encrypted: version.artifactKms !== null, from: origin.copy, settle };
      return { view, job };
    });
    if (job) this.files.start(job);
    return view;
  }

  async get(caller: Caller, projectId: string, name: string, version: bigint | number): Promise<VersionView> {
    const number = versionOf(version);
    const model = await this.access.require(caller, projectId, name, { action: 'read', kind: 'ModelVersion', name: versionResourceName(projectId, name, number) });
    return (await this.versions.views([{ version: await this.find(model, number), model }]))[0];
  }

  /**
   * The version once it is no longer PENDING, read from the database whenever this process may
   * have news of it (see VersionWaiters); DEADLINE_EXCEEDED when `end.deadlineMs` comes first.
   */
  async wait(caller: Caller, projectId: string, name: string, version: bigint, end: WaitEnd): Promise<VersionView> {
    const number = versionOf(version);
    const model = await this.access.require(caller, projectId, name, { action: 'read', kind: 'ModelVersion', name: versionResourceName(projectId, name, number) });
    for (;;) {
      const news = this.waiters.listen(model.projectId, end);
      let row: ModelVersionEntity;
      try {
        row = await this.find(model, number);
      } catch (error) {
        news.stop();
        throw error;
      }
      if (row.status !== 'PENDING') {
        news.stop();
        return (await this.versions.views([{ version: row, model }]))[0];
      }
      const reason = await news.reason;
      if (reason === 'deadline') {
        throw new WaitEndedError(status.DEADLINE_EXCEEDED, `version ${number} of model "${name}" is still PENDING at the call's deadline; call WaitVersion again to keep waiting`, {
          reason: 'VERSION_STILL_PENDING',
          resource: versionResourceName(projectId, name, number),
        });
      }
      if (reason === 'cancelled') throw new WaitEndedError(status.CANCELLED, `the wait for version ${number} of model "${name}" was cancelled`);
    }
  }

  /** Changes the fields of a version named in the mask (its description). */
  async update(caller: Caller, update: VersionUpdate): Promise<VersionView> {
    if (!update.version) throw new InvalidArgumentError('is required: it names the version and holds the new values', 'version');
    const { projectId, name, version, description } = update.version;
    checkRequired(projectId, 'version.project_id');
    checkModelName(name, 'version.model_name');
    versionOf(version, 'version.version');
    const mask = checkUpdateMask(update.updateMask, UPDATABLE);
    const changes: Partial<Pick<ModelVersionEntity, 'description'>> = {};
    if (mask.has('description')) {
      checkText(description, REGISTRY_LIMITS.descriptionLength, 'version.description');
      changes.description = description;
    }
    return this.change(caller, projectId, name, version, async (tx, row) => {
      Object.assign(row, changes);
      await this.versions.update(tx, row.modelId, row.version, { ...changes, updatedAt: row.updatedAt });
    });
  }

  async setTag(caller: Caller, projectId: string, name: string, version: bigint, tag: Tag): Promise<void> {
    checkTag(tag, 'tag');
    await this.change(caller, projectId, name, version, (tx, row) => this.versions.setTag(tx, row.modelId, row.version, tag));
  }

  async deleteTag(caller: Caller, projectId: string, name: string, version: bigint, key: string): Promise<void> {
    checkTagKey(key);
    await this.change(caller, projectId, name, version, async (tx, row) => {
      if (!(await this.versions.deleteTag(tx, row.modelId, row.version, key))) {
        throw new NotFoundError(`version ${row.version} of model "${name}" has no tag "${key}"`, { reason: 'VERSION_TAG_NOT_FOUND', resource: versionResourceName(projectId, name, row.version) });
      }
    });
  }

  /** Deletes a version and its copy; FAILED_PRECONDITION naming the aliases that still point at it. */
  async delete(caller: Caller, projectId: string, name: string, version: bigint): Promise<void> {
    const number = versionOf(version);
    const { model, row } = await this.versions.transaction(async (tx) => {
      const model = await this.access.lock(tx, caller, projectId, name, { action: 'delete', kind: 'ModelVersion', name: versionResourceName(projectId, name, number) });
      const row = await this.find(model, number, tx);
      const held = await this.versions.aliasesOf(tx, model.id, number);
      if (held.length > 0) {
        const aliases = held.map((alias) => alias.alias).join(', ');
        throw new FailedPreconditionError(`version ${number} of model "${name}" is held by alias${held.length > 1 ? 'es' : ''} ${aliases}; move or delete ${held.length > 1 ? 'them' : 'it'} first`, {
          reason: 'VERSION_HAS_ALIASES',
          resource: versionResourceName(projectId, name, number),
        });
      }
      await this.versions.delete(tx, model.id, number);
      await this.models.update(tx, model.id, { updatedAt: Date.now() });
      await this.audit.recordIn(tx, caller);
      return { model, row };
    });
    this.files.cancel(model.id, number);
    if (row.artifactStore) await this.files.deleteUnder(row.artifactStore, versionPrefix(model.projectId, model.id, number));
  }

  /**
   * A page of versions of the models the caller may read, by model name, project, then version
   * newest first; page tokens carry the last (name, project, version).
   */
  async search(caller: Caller, query: VersionQuery): Promise<{ versions: VersionView[]; nextPageToken: string }> {
    for (const projectId of query.projectIds) caller.assert('read', 'ModelVersion', { projectId });
    const readable = query.projectIds.length > 0 ? query.projectIds : caller.boundProjectsWhere('read', 'ModelVersion');
    checkText(query.nameLike, REGISTRY_LIMITS.modelNameLength, 'name_like');
    checkTags(query.tags);
    if (query.runIds.length > REGISTRY_LIMITS.runIdsPerSearch) {
      throw new InvalidArgumentError(`has ${query.runIds.length} entries; the limit is ${REGISTRY_LIMITS.runIdsPerSearch}`, 'run_ids');
    }
    query.runIds.forEach((runId, index) => checkText(runId, 64, `run_ids[${index}]`));
    const size = pageSizeOf(query.pageSize);
    const projectIds = [...new Set(readable)].sort();
    const listing = {
      projects: JSON.stringify(projectIds),
      nameLike: query.nameLike,
      runIds: JSON.stringify([...new Set(query.runIds)].sort()),
      tags: JSON.stringify(query.tags),
    };
    const after = positionOf(decodePageToken(query.pageToken, listing), 3);
    if (projectIds.length === 0) return { versions: [], nextPageToken: '' };
    const page = await this.versions.search({ projectIds, nameLike: query.nameLike, runIds: query.runIds, tags: query.tags, after, limit: size });
    const last = page.hits[page.hits.length - 1];
    const nextPageToken = page.more && last ? encodePageToken(JSON.stringify([last.name, last.projectId, last.version]), listing) : '';
    return { versions: await this.versions.views(await this.versions.versionsOf(page.hits)), nextPageToken };
  }

  /** The versions with their tags and aliases, read in `tx` when given. */
  views(rows: VersionOfModel[], tx?: EntityManager): Promise<VersionView[]> {
    return this.versions.views(rows, tx);
  }

  /** The version of the model, or NOT_FOUND naming both. */
  async find(model: RegisteredModelEntity, version: number, tx?: EntityManager): Promise<ModelVersionEntity> {
    const row = await this.versions.find(model.id, version, tx);
    if (!row) throw new NotFoundError(`Model Version (name=${model.name}, version=${version}) not found`, { reason: 'VERSION_NOT_FOUND', resource: versionResourceName(model.projectId, model.name, version) });
    return row;
  }

  /** The version and the run it came from, as recorded when it was created. */
  async lineage(caller: Caller, projectId: string, name: string, version: bigint): Promise<{ view: VersionView; lineage: StoredLineage | null }> {
    const view = await this.get(caller, projectId, name, version);
    return { view, lineage: view.version.lineage };
  }

  /** A page of the files and directories directly under a path of a version's copy, by path; tokens carry the last path. */
  async listFiles(caller: Caller, query: FileQuery): Promise<{ files: VersionFileEntry[]; nextPageToken: string }> {
    const relative = versionPathOf(query.path);
    const size = pageSizeOf(query.pageSize);
    const listing = { projectId: query.projectId, name: query.name, version: String(query.version), path: relative };
    const after = decodePageToken(query.pageToken, listing);
    const { store, prefix } = await this.copyOf(caller, query.projectId, query.name, query.version);
    const entries = await this.files.list(store, prefix, relative);
    const page = pageOf(after === undefined ? entries : entries.filter((entry) => entry.path > after), size, (entry) => entry.path, listing);
    return { files: page.items, nextPageToken: page.nextPageToken };
  }

  async openFile(caller: Caller, projectId: string, name: string, version: bigint, path: string): Promise<{ body: Readable; size: number }> {
    const relative = versionPathOf(path);
    if (!relative) throw new InvalidArgumentError('must name a file of the version', 'path');
    const { store, prefix, label } = await this.copyOf(caller, projectId, name, version);
    const file = await this.files.open(store, `${prefix}${relative}`);
    if (!file) throw new NotFoundError(`${label} has no file "${relative}"`, { reason: 'FILE_NOT_FOUND', resource: versionResourceName(projectId, name, Number(version)) });
    return file;
  }

  /** The storage instance and key prefix of a READY version's copy; FAILED_PRECONDITION saying why there is none. */
  private async copyOf(caller: Caller, projectId: string, name: string, version: bigint): Promise<{ store: string; prefix: string; label: string }> {
    const { version: row } = await this.get(caller, projectId, name, version);
    const label = `version ${row.version} of model "${name}"`;
    const resource = versionResourceName(projectId, name, row.version);
    if (!row.artifactStore) throw new FailedPreconditionError(`${label} is a reference to ${row.storageUri}; the registry keeps no files for it`, { reason: 'VERSION_IS_REFERENCE', resource });
    if (row.status === 'PENDING') throw new FailedPreconditionError(`${label} is still being copied; its files can be read once it is READY`, { reason: 'VERSION_NOT_READY', resource });
    if (row.status === 'FAILED') throw new FailedPreconditionError(`${label} has no files: ${row.statusMessage}`, { reason: 'VERSION_FAILED', resource });
    return { store: row.artifactStore, prefix: versionPrefix(projectId, row.modelId, row.version), label };
  }

  /**
   * Records how a version's copy ended, if the version is still PENDING, with its settled event,
   * and wakes this process's waiters; returns whether it was still PENDING.
   */
  private async settle(caller: Caller, modelId: number, number: number, outcome: VersionStatusName, message: string): Promise<boolean> {
    const context = { actor: caller.authenticated.id, requestId: caller.requestId };
    const model = await this.versions.transaction((tx) => this.recordSettled(tx, modelId, number, outcome, message, context));
    if (model) this.waiters.wake(model.projectId);
    return model !== undefined;
  }

  /** The status write and settled event of `settle`, in `tx`; the version's model, or undefined when it was not PENDING. */
  private async recordSettled(
    tx: EntityManager,
    modelId: number,
    number: number,
    outcome: VersionStatusName,
    message: string,
    context: { actor?: string; requestId?: string },
  ): Promise<RegisteredModelEntity | undefined> {
    // A copy's failure may quote a long error; the contract shows at most statusMessageLength characters.
    const row = await this.versions.settle(tx, modelId, number, outcome, message.slice(0, REGISTRY_LIMITS.statusMessageLength));
    const model = row && (await this.models.findById(tx, modelId));
    if (!row || !model) return undefined;
    const [view] = await this.versions.views([{ version: row, model }], tx);
    const event = create(VersionSettledEventSchema, { version: versionToProto(view) });
    await this.outbox.publish(tx, registryEvents, { subject: 'trellis.registry.v1.version.settled', message: event, projectId: model.projectId, ...context });
    return model;
  }

  /** Runs `apply` on a version after locking its model and checking the caller may update it; audits it. */
  private async change(caller: Caller, projectId: string, name: string, version: bigint, apply: (tx: EntityManager, row: ModelVersionEntity) => Promise<void>): Promise<VersionView> {
    const number = versionOf(version);
    return this.versions.transaction(async (tx) => {
      const model = await this.access.lock(tx, caller, projectId, name, { action: 'update', kind: 'ModelVersion', name: versionResourceName(projectId, name, number) });
      const row = await this.find(model, number, tx);
      row.updatedAt = Date.now();
      await apply(tx, row);
      await this.versions.update(tx, row.modelId, row.version, { updatedAt: row.updatedAt });
      await this.audit.recordIn(tx, caller);
      return (await this.versions.views([{ version: row, model }], tx))[0];
    });
  }

  /** Where a new version's files come from, where they will be, and the lineage it carries. */
  private async originOf(
    tx: EntityManager,
    model: RegisteredModelEntity,
    source: VersionSource,
    store: string,
    prefix: string,
    caller: Caller,
    lineage: StoredLineage | null,
  ): Promise<{ copy?: CopySource; storageUri: string; lineage: StoredLineage | null; kms?: string | null }> {
    if (source.kind === 'reference') return { storageUri: source.uri, lineage };
    if (source.kind === 'run') return { copy: { ...source, caller }, storageUri: storageUriOf(store, prefix), lineage };
    const from = await this.models.findByName(model.projectId, source.name, false, tx);
    if (!from) throw new InvalidArgumentError(`model "${source.name}" does not exist in project ${model.projectId}`, 'source');
    let number: number;
    if ('alias' in source) {
      const target = await this.versions.aliasTarget(tx, from.id, source.alias);
      if (target === undefined) throw new InvalidArgumentError(`model "${source.name}" has no alias ${source.alias}`, 'source');
      number = target;
    } else {
      number = source.version;
    }
    const origin = await this.versions.find(from.id, number, tx);
    if (!origin) throw new InvalidArgumentError(`model "${source.name}" has no version ${number}`, 'source');
    const label = `version ${number} of model "${source.name}"`;
    if (origin.status !== 'READY') {
      throw new FailedPreconditionError(`${label} is ${origin.status}; only a READY version can be copied`, { reason: 'VERSION_NOT_READY', resource: versionResourceName(from.projectId, source.name, number) });
    }
    // Without a run of its own, the version came from wherever its source did.
    const inherited = lineage ?? origin.lineage;
    // A reference stays a reference: the registry has no files of it to copy.
    if (!origin.artifactStore) return { storageUri: origin.storageUri, lineage: inherited };
    // A copy of an encrypted version stays encrypted; it goes to its own project's storage instance, wherever its source is.
    const copy: CopySource = { kind: 'version', prefix: versionPrefix(from.projectId, from.id, number), label, store: origin.artifactStore, encrypted: origin.artifactKms !== null };
    return { copy, storageUri: storageUriOf(store, prefix), lineage: inherited, kms: origin.artifactKms };
  }

  /**
   * Reads the run once, through tracking with the caller's own permissions, and keeps what
   * lineage needs, so it still answers after the run is deleted.
   */
  private async readRun(caller: Caller, runId: string, projectId: string): Promise<{ lineage: StoredLineage; artifactsEncrypted: boolean }> {
    let response;
    try {
      response = await this.clients.of(RunServiceDesc, 'tracking').getRun({ runId }, forwardAs(caller));
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === status.NOT_FOUND || code === status.INVALID_ARGUMENT) throw new InvalidArgumentError(`run ${runId} does not exist`, 'run_id');
      throw error;
    }
    const run = response.run;
    if (run?.info?.projectId !== projectId) {
      throw new InvalidArgumentError(`run ${runId} belongs to project ${run?.info?.projectId}, not to the model's project ${projectId}`, 'run_id');
    }
    const lineage: StoredLineage = {
      runId,
      experimentId: run.info.experimentId,
      runName: run.info.runName,
      datasets: (run.inputs?.datasetInputs ?? []).map((input) => ({
        name: input.dataset?.name ?? '',
        digest: input.dataset?.digest ?? '',
        sourceType: input.dataset?.sourceType ?? '',
        source: input.dataset?.source ?? '',
        context: input.tags.find((tag) => tag.key === 'mlflow.data.context')?.value ?? '',
      })),
    };
    return { lineage, artifactsEncrypted: run.info.artifactsEncrypted };
  }
}

function checkSignature(signature: NewVersion['signature']): void {
  for (const [side, tensors] of Object.entries(signature ?? {}) as Array<[string, StoredTensor[]]>) {
    if (tensors.length > 1000) throw new InvalidArgumentError(`has ${tensors.length} tensors; the limit is 1000`, `signature.${side}`);
    tensors.forEach((tensor, index) => {
      checkText(tensor.name, 500, `signature.${side}[${index}].name`);
      checkText(tensor.dtype, 64, `signature.${side}[${index}].dtype`);
      if (tensor.shape.some((dimension) => !Number.isSafeInteger(dimension) || dimension < -1)) {
        throw new InvalidArgumentError('dimensions must be -1 (variable) or a size', `signature.${side}[${index}].shape`);
      }
    });
  }
}

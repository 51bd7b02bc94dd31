import type { Readable } from 'node:stream';
import { create } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { Injectable } from '@nestjs/common';
import { AuditRecorder, type Caller, checkRequired, FailedPreconditionError, forwardAs, InvalidArgumentError, NotFoundError, Outbox, ServiceClients } from '@trellis/platform';
import { RunService, VersionCreatedEventSchema } from '@trellis/proto';
import { DataSource, In, type EntityManager } from 'typeorm';
import { AliasEntity } from '../aliases/alias.entity';
import { ModelAccess } from '../models/model-access';
import { RegisteredModelEntity } from '../models/model.entity';
import { checkModelName, checkTag, checkTagKey, checkTags, checkText, lastWins, REGISTRY_LIMITS, versionOf, type Tag } from '../registry-limits';
import { RegistryViews, versionToProto, type VersionView } from '../registry-views';
import { REGISTRY_STORE } from './registry-store';
import { storageUriOf, versionPathOf, versionPrefix, VersionFiles, type CopyJob, type CopySource, type VersionFileEntry } from './version-files';
import { VersionSearch, type VersionQuery } from './version-search';
import { parseSource, type VersionSource } from './version-source';
import { ModelVersionEntity, VersionTagEntity, type StoredLineage, type StoredTensor } from './version.entity';

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

const RUN_ID = /^[a-zA-Z0-9][\w-]{0,63}$/;

/** Versions: create (copying files in the background), read, update, delete, tags, search, lineage, files. */
@Injectable()
export class VersionService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditRecorder,
    private readonly outbox: Outbox,
    private readonly access: ModelAccess,
    private readonly views: RegistryViews,
    private readonly files: VersionFiles,
    private readonly versionSearch: VersionSearch,
    private readonly clients: ServiceClients,
  ) {}

  /**
   * Adds the model's next version. A runs:/ or models:/ source leaves it PENDING while its files are
   * copied in the background; any other source is kept as a reference and is READY at once.
   */
  async create(caller: Caller, input: NewVersion): Promise<VersionView> {
    checkRequired(input.projectId, 'project_id');
    checkModelName(input.name);
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
    const lineage = runId ? await this.readRun(caller, runId, input.projectId) : null;
    if (source.kind === 'run' && source.experimentId && lineage?.experimentId !== source.experimentId) {
      throw new InvalidArgumentError(`names experiment ${source.experimentId}, but run ${runId} is in experiment ${lineage?.experimentId}`, 'source');
    }

    const { view, job } = await this.dataSource.transaction(async (manager) => {
      const model = await this.access.lock(manager, caller, input.projectId, input.name, target);
      const number = model.latestVersion + 1;
      const prefix = versionPrefix(model.projectId, model.id, number);
      const origin = await this.originOf(manager, model, source, prefix, caller, lineage);
      const now = Date.now();
      const version = manager.create(ModelVersionEntity, {
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
        artifactStore: origin.copy ? REGISTRY_STORE : null,
        lineage: origin.lineage,
        creatorId: caller.authenticated.id,
        createdAt: now,
        updatedAt: now,
      });
      await manager.insert(ModelVersionEntity, version);
      await manager.update(RegisteredModelEntity, { id: model.id }, { latestVersion: number, updatedAt: now });
      const tags = lastWins(input.tags);
      if (tags.length > 0) await manager.insert(VersionTagEntity, tags.map((tag) => ({ modelId: model.id, version: number, ...tag })));
      const view: VersionView = { version, model, tags, aliases: [] };
      await this.outbox.publish(manager, {
        subject: 'trellis.registry.v1.version.created',
        schema: VersionCreatedEventSchema,
        message: create(VersionCreatedEventSchema, { version: versionToProto(view) }),
        projectId: model.projectId,
        actor: caller.authenticated.id,
        requestId: caller.requestId,
      });
      await this.audit.recordIn(manager, caller, { id: `${model.name}/${number}`, projectId: model.projectId });
      const job: CopyJob | undefined = origin.copy && { modelId: model.id, version: number, prefix, from: origin.copy };
      return { view, job };
    });
    if (job) this.files.start(job);
    return view;
  }

  async get(caller: Caller, projectId: string, name: string, version: bigint | number): Promise<VersionView> {
    const number = versionOf(version);
    const model = await this.access.require(caller, projectId, name, { action: 'read', kind: 'ModelVersion', id: `${name}/${number}` });
    return (await this.views.versions([{ version: await findVersion(this.dataSource.manager, model, number), model }]))[0];
  }

  async updateDescription(caller: Caller, projectId: string, name: string, version: bigint, description: string): Promise<VersionView> {
    checkText(description, REGISTRY_LIMITS.descriptionLength, 'description');
    return this.change(caller, projectId, name, version, async (manager, row) => {
      row.description = description;
      await manager.update(ModelVersionEntity, { modelId: row.modelId, version: row.version }, { description, updatedAt: row.updatedAt });
    });
  }

  async setTag(caller: Caller, projectId: string, name: string, version: bigint, tag: Tag): Promise<void> {
    checkTag(tag, 'tag');
    await this.change(caller, projectId, name, version, async (manager, row) => {
      await manager.upsert(VersionTagEntity, { modelId: row.modelId, version: row.version, ...tag }, ['modelId', 'version', 'key']);
    });
  }

  async deleteTag(caller: Caller, projectId: string, name: string, version: bigint, key: string): Promise<void> {
    checkTagKey(key);
    await this.change(caller, projectId, name, version, async (manager, row) => {
      const { affected } = await manager.delete(VersionTagEntity, { modelId: row.modelId, version: row.version, key });
      if (!affected) throw new NotFoundError(`version ${row.version} of model "${name}" has no tag "${key}"`);
    });
  }

  /** Deletes a version and its copy; FAILED_PRECONDITION naming the aliases that still point at it. */
  async delete(caller: Caller, projectId: string, name: string, version: bigint): Promise<void> {
    const number = versionOf(version);
    const { model, row } = await this.dataSource.transaction(async (manager) => {
      const model = await this.access.lock(manager, caller, projectId, name, { action: 'delete', kind: 'ModelVersion', id: `${name}/${number}` });
      const row = await findVersion(manager, model, number);
      const held = await manager.find(AliasEntity, { where: { modelId: model.id, version: number }, order: { alias: 'ASC' } });
      if (held.length > 0) {
        const aliases = held.map((alias) => alias.alias).join(', ');
        throw new FailedPreconditionError(`version ${number} of model "${name}" is held by alias${held.length > 1 ? 'es' : ''} ${aliases}; move or delete ${held.length > 1 ? 'them' : 'it'} first`);
      }
      await manager.delete(ModelVersionEntity, { modelId: model.id, version: number });
      await manager.update(RegisteredModelEntity, { id: model.id }, { updatedAt: Date.now() });
      await this.audit.recordIn(manager, caller);
      return { model, row };
    });
    this.files.cancel(model.id, number);
    if (row.artifactStore) await this.files.deleteUnder(versionPrefix(model.projectId, model.id, number));
  }

  /** A page of versions of the models the caller may read. */
  async search(caller: Caller, query: Omit<VersionQuery, 'projectIds'> & { projectIds: string[] }): Promise<{ versions: VersionView[]; nextPageToken: string }> {
    for (const projectId of query.projectIds) caller.assert('read', 'ModelVersion', { projectId });
    const projectIds = query.projectIds.length > 0 ? query.projectIds : caller.boundProjectsWhere('read', 'ModelVersion');
    const page = await this.versionSearch.search({ ...query, projectIds });
    if (page.hits.length === 0) return { versions: [], nextPageToken: page.nextPageToken };
    const manager = this.dataSource.manager;
    const modelIds = [...new Set(page.hits.map((hit) => hit.modelId))];
    const [models, rows] = await Promise.all([
      manager.findBy(RegisteredModelEntity, { id: In(modelIds) }),
      manager.findBy(ModelVersionEntity, { modelId: In(modelIds), version: In([...new Set(page.hits.map((hit) => hit.version))]) }),
    ]);
    const found = page.hits.flatMap((hit) => {
      const model = models.find((candidate) => candidate.id === hit.modelId);
      const version = rows.find((row) => row.modelId === hit.modelId && row.version === hit.version);
      return model && version ? [{ model, version }] : [];
    });
    return { versions: await this.views.versions(found), nextPageToken: page.nextPageToken };
  }

  /** The version and the run it came from, as recorded when it was created. */
  async lineage(caller: Caller, projectId: string, name: string, version: bigint): Promise<{ view: VersionView; lineage: StoredLineage | null }> {
    const view = await this.get(caller, projectId, name, version);
    return { view, lineage: view.version.lineage };
  }

  async listFiles(caller: Caller, projectId: string, name: string, version: bigint, path: string): Promise<VersionFileEntry[]> {
    const relative = versionPathOf(path);
    const { prefix } = await this.copyOf(caller, projectId, name, version);
    return this.files.list(prefix, relative);
  }

  async openFile(caller: Caller, projectId: string, name: string, version: bigint, path: string): Promise<{ body: Readable; size: number }> {
    const relative = versionPathOf(path);
    if (!relative) throw new InvalidArgumentError('must name a file of the version', 'path');
    const { prefix, label } = await this.copyOf(caller, projectId, name, version);
    const file = await this.files.open(`${prefix}${relative}`);
    if (!file) throw new NotFoundError(`${label} has no file "${relative}"`);
    return file;
  }

  /** The key prefix of a READY version's copy; FAILED_PRECONDITION saying why there is none. */
  private async copyOf(caller: Caller, projectId: string, name: string, version: bigint): Promise<{ prefix: string; label: string }> {
    const { version: row } = await this.get(caller, projectId, name, version);
    const label = `version ${row.version} of model "${name}"`;
    if (!row.artifactStore) throw new FailedPreconditionError(`${label} is a reference to ${row.storageUri}; the registry keeps no files for it`);
    if (row.status === 'PENDING') throw new FailedPreconditionError(`${label} is still being copied; its files can be read once it is READY`);
    if (row.status === 'FAILED') throw new FailedPreconditionError(`${label} has no files: ${row.statusMessage}`);
    return { prefix: versionPrefix(projectId, row.modelId, row.version), label };
  }

  /** Runs `apply` on a version after locking its model and checking the caller may update it; audits it. */
  private async change(caller: Caller, projectId: string, name: string, version: bigint, apply: (manager: EntityManager, row: ModelVersionEntity) => Promise<void>): Promise<VersionView> {
    const number = versionOf(version);
    return this.dataSource.transaction(async (manager) => {
      const model = await this.access.lock(manager, caller, projectId, name, { action: 'update', kind: 'ModelVersion', id: `${name}/${number}` });
      const row = await findVersion(manager, model, number);
      row.updatedAt = Date.now();
      await apply(manager, row);
      await manager.update(ModelVersionEntity, { modelId: row.modelId, version: row.version }, { updatedAt: row.updatedAt });
      await this.audit.recordIn(manager, caller);
      return (await this.views.versions([{ version: row, model }], manager))[0];
    });
  }

  /** Where a new version's files come from, where they will be, and the lineage it carries. */
  private async originOf(
    manager: EntityManager,
    model: RegisteredModelEntity,
    source: VersionSource,
    prefix: string,
    caller: Caller,
    lineage: StoredLineage | null,
  ): Promise<{ copy?: CopySource; storageUri: string; lineage: StoredLineage | null }> {
    if (source.kind === 'reference') return { storageUri: source.uri, lineage };
    if (source.kind === 'run') return { copy: { ...source, caller }, storageUri: storageUriOf(prefix), lineage };
    const from = await manager.findOneBy(RegisteredModelEntity, { projectId: model.projectId, name: source.name });
    if (!from) throw new InvalidArgumentError(`model "${source.name}" does not exist in project ${model.projectId}`, 'source');
    let number: number;
    if ('alias' in source) {
      const alias = await manager.findOneBy(AliasEntity, { modelId: from.id, alias: source.alias });
      if (!alias) throw new InvalidArgumentError(`model "${source.name}" has no alias ${source.alias}`, 'source');
      number = alias.version;
    } else {
      number = source.version;
    }
    const origin = await manager.findOneBy(ModelVersionEntity, { modelId: from.id, version: number });
    if (!origin) throw new InvalidArgumentError(`model "${source.name}" has no version ${number}`, 'source');
    const label = `version ${number} of model "${source.name}"`;
    if (origin.status !== 'READY') throw new FailedPreconditionError(`${label} is ${origin.status}; only a READY version can be copied`);
    // Without a run of its own, the version came from wherever its source did.
    const inherited = lineage ?? origin.lineage;
    // A reference stays a reference: the registry has no files of it to copy.
    if (!origin.artifactStore) return { storageUri: origin.storageUri, lineage: inherited };
    return { copy: { kind: 'version', prefix: versionPrefix(from.projectId, from.id, number), label }, storageUri: storageUriOf(prefix), lineage: inherited };
  }

  /**
   * Reads the run once, through tracking with the caller's own permissions, and keeps what
   * lineage needs, so it still answers after the run is deleted.
   */
  private async readRun(caller: Caller, runId: string, projectId: string): Promise<StoredLineage> {
    let response;
    try {
      response = await this.clients.of(RunService, 'tracking').getRun({ runId }, forwardAs(caller));
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === status.NOT_FOUND || code === status.INVALID_ARGUMENT) throw new InvalidArgumentError(`run ${runId} does not exist`, 'run_id');
      throw error;
    }
    const run = response.run;
    if (run?.info?.projectId !== projectId) {
      throw new InvalidArgumentError(`run ${runId} belongs to project ${run?.info?.projectId}, not to the model's project ${projectId}`, 'run_id');
    }
    return {
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
  }
}

/** The version of the model, or NOT_FOUND naming both. */
export async function findVersion(manager: EntityManager, model: RegisteredModelEntity, version: number): Promise<ModelVersionEntity> {
  const row = await manager.findOneBy(ModelVersionEntity, { modelId: model.id, version });
  if (!row) throw new NotFoundError(`Model Version (name=${model.name}, version=${version}) not found`);
  return row;
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

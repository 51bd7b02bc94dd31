import { create } from '@bufbuild/protobuf';
import { Injectable } from '@nestjs/common';
import {
  AliasChangeSchema,
  ModelVersionSchema,
  ModelVersionStatus,
  RegisteredModelSchema,
  type AliasChange,
  type ModelVersion,
  type RegisteredModel,
} from '@trellis/proto';
import { DataSource, In, type EntityManager } from 'typeorm';
import { AliasEntity, type AliasChangeEntity } from './aliases/alias.entity';
import { ModelTagEntity, type RegisteredModelEntity } from './models/model.entity';
import type { Tag } from './registry-limits';
import { VersionTagEntity, type ModelVersionEntity, type VersionStatusName } from './versions/version.entity';

/** A model with its tags and aliases, as GetModel and SearchModels return it. */
export interface ModelView {
  model: RegisteredModelEntity;
  tags: Tag[];
  aliases: Array<{ alias: string; version: number }>;
}

/** A version with its model's project and name, its tags and the aliases pointing at it. */
export interface VersionView {
  version: ModelVersionEntity;
  model: Pick<RegisteredModelEntity, 'projectId' | 'name'>;
  tags: Tag[];
  aliases: string[];
}

const STATUSES: Record<VersionStatusName, ModelVersionStatus> = {
  PENDING: ModelVersionStatus.PENDING,
  READY: ModelVersionStatus.READY,
  FAILED: ModelVersionStatus.FAILED,
};

/** Reads what goes with models and versions (tags, aliases) in one query per kind for a whole page. */
@Injectable()
export class RegistryViews {
  constructor(private readonly dataSource: DataSource) {}

  async models(models: RegisteredModelEntity[], manager: EntityManager = this.dataSource.manager): Promise<ModelView[]> {
    if (models.length === 0) return [];
    const ids = models.map((model) => model.id);
    const [tags, aliases] = await Promise.all([
      manager.find(ModelTagEntity, { where: { modelId: In(ids) }, order: { key: 'ASC' } }),
      manager.find(AliasEntity, { where: { modelId: In(ids) }, order: { alias: 'ASC' } }),
    ]);
    return models.map((model) => ({
      model,
      tags: tags.filter((tag) => tag.modelId === model.id).map(({ key, value }) => ({ key, value })),
      aliases: aliases.filter((alias) => alias.modelId === model.id).map(({ alias, version }) => ({ alias, version })),
    }));
  }

  async versions(
    rows: Array<{ version: ModelVersionEntity; model: Pick<RegisteredModelEntity, 'id' | 'projectId' | 'name'> }>,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<VersionView[]> {
    if (rows.length === 0) return [];
    const modelIds = [...new Set(rows.map((row) => row.model.id))];
    const [tags, aliases] = await Promise.all([
      manager.find(VersionTagEntity, { where: { modelId: In(modelIds), version: In(rows.map((row) => row.version.version)) }, order: { key: 'ASC' } }),
      manager.find(AliasEntity, { where: { modelId: In(modelIds) }, order: { alias: 'ASC' } }),
    ]);
    const of = (row: { modelId: number; version: number }, version: ModelVersionEntity) => row.modelId === version.modelId && row.version === version.version;
    return rows.map(({ version, model }) => ({
      version,
      model: { projectId: model.projectId, name: model.name },
      tags: tags.filter((tag) => of(tag, version)).map(({ key, value }) => ({ key, value })),
      aliases: aliases.filter((alias) => of(alias, version)).map((alias) => alias.alias),
    }));
  }
}

export function modelToProto(view: ModelView): RegisteredModel {
  const { model } = view;
  return create(RegisteredModelSchema, {
    projectId: model.projectId,
    name: model.name,
    description: model.description,
    tags: view.tags,
    aliases: view.aliases.map(({ alias, version }) => ({ alias, version: BigInt(version) })),
    protectedAliases: model.protectedAliases,
    latestVersion: BigInt(model.latestVersion),
    creatorId: model.creatorId,
    createTimeMs: BigInt(model.createdAt),
    updateTimeMs: BigInt(model.updatedAt),
  });
}

export function versionToProto(view: VersionView): ModelVersion {
  const { version } = view;
  const tensors = (list: Array<{ name: string; dtype: string; shape: number[] }>) => list.map((tensor) => ({ ...tensor, shape: tensor.shape.map(BigInt) }));
  return create(ModelVersionSchema, {
    projectId: view.model.projectId,
    name: view.model.name,
    version: BigInt(version.version),
    source: version.source,
    runId: version.runId ?? '',
    storageUri: version.storageUri,
    status: STATUSES[version.status],
    statusMessage: version.statusMessage,
    format: version.format,
    signature: version.signature ? { inputs: tensors(version.signature.inputs), outputs: tensors(version.signature.outputs) } : undefined,
    description: version.description,
    runLink: version.runLink,
    tags: view.tags,
    aliases: view.aliases,
    creatorId: version.creatorId,
    createTimeMs: BigInt(version.createdAt),
    updateTimeMs: BigInt(version.updatedAt),
  });
}

export function changeToProto(change: AliasChangeEntity): AliasChange {
  return create(AliasChangeSchema, {
    alias: change.alias,
    fromVersion: BigInt(change.fromVersion),
    toVersion: BigInt(change.toVersion),
    actorId: change.actorId,
    timeMs: BigInt(change.timeMs),
    approvalId: change.approvalId,
  });
}

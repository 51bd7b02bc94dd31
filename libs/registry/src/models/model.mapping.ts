import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { RegisteredModelSchema, type RegisteredModel } from '@trellis/proto';
import type { Tag } from '../common/registry-limits';
import type { RegisteredModelEntity } from './model.entity';

/** A model with its tags and aliases, as GetModel and SearchModels return it. */
export interface ModelView {
  model: RegisteredModelEntity;
  tags: Tag[];
  aliases: Array<{ alias: string; version: number }>;
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
    createTime: timestampFromMs(model.createdAt),
    updateTime: timestampFromMs(model.updatedAt),
  });
}

import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { DatasetSchema, type Dataset } from '@trellis/proto/trellis/data/v1/resources_pb';
import type { DatasetEntity, DatasetTag } from './dataset.entity';

/** The proto of a stored dataset, as every call and event returns it. */
export function datasetToProto(entity: DatasetEntity, latestVersion = 0): Dataset {
  return create(DatasetSchema, {
    id: entity.id,
    projectId: entity.projectId,
    name: entity.name,
    description: entity.description,
    creatorId: entity.creatorId,
    createTime: timestampFromMs(entity.createdAt),
    updateTime: timestampFromMs(entity.updatedAt),
    tags: entity.tags,
    latestVersion: BigInt(latestVersion),
  });
}

/** A tag of a request, as the service keeps it. */
export function tagOf(tag: { key: string; value: string }): DatasetTag {
  return { key: tag.key, value: tag.value };
}

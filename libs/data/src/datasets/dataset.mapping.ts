import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { DatasetSchema, type Dataset } from '@trellis/proto/trellis/data/v1/resources_pb';
import type { DatasetEntity } from './dataset.entity';

/** The proto of a stored dataset, as every call and event returns it. */
export function datasetToProto(entity: DatasetEntity): Dataset {
  return create(DatasetSchema, {
    id: entity.id,
    projectId: entity.projectId,
    name: entity.name,
    description: entity.description,
    creatorId: entity.creatorId,
    createTime: timestampFromMs(entity.createdAt),
    updateTime: timestampFromMs(entity.updatedAt),
  });
}

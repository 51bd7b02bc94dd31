import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { QueueSchema, type Queue } from '@trellis/proto';
import type { QueueEntity } from './queue.entity';

/** The proto of a stored queue, as every call and event returns it. */
export function queueToProto(entity: QueueEntity): Queue {
  return create(QueueSchema, {
    id: entity.id,
    projectId: entity.projectId,
    name: entity.name,
    description: entity.description,
    creatorId: entity.creatorId,
    createTime: timestampFromMs(entity.createdAt),
    updateTime: timestampFromMs(entity.updatedAt),
  });
}

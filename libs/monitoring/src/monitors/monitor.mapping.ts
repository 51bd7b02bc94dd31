import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { MonitorSchema, type Monitor } from '@trellis/proto';
import type { MonitorEntity } from './monitor.entity';

/** The proto of a stored monitor, as every call and event returns it. */
export function monitorToProto(entity: MonitorEntity): Monitor {
  return create(MonitorSchema, {
    id: entity.id,
    projectId: entity.projectId,
    name: entity.name,
    description: entity.description,
    creatorId: entity.creatorId,
    createTime: timestampFromMs(entity.createdAt),
    updateTime: timestampFromMs(entity.updatedAt),
  });
}

import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { AliasChangeSchema, type AliasChange } from '@trellis/proto';
import type { AliasChangeEntity } from './alias.entity';

export function changeToProto(change: AliasChangeEntity): AliasChange {
  return create(AliasChangeSchema, {
    alias: change.alias,
    fromVersion: BigInt(change.fromVersion),
    toVersion: BigInt(change.toVersion),
    actorId: change.actorId,
    changeTime: timestampFromMs(change.timeMs),
    approvalId: change.approvalId,
  });
}

import type { MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { ApiKeySchema } from '@trellis/proto';
import type { ApiKeyEntity } from './token.entity';

/** The proto of a stored API key; never its secret, which is not stored. */
export function apiKeyToProto(key: ApiKeyEntity): MessageInitShape<typeof ApiKeySchema> {
  const time = (ms: number | null) => (ms === null ? undefined : timestampFromMs(ms));
  return {
    id: key.id,
    principalId: key.principalId,
    name: key.name,
    projectIds: key.projectIds,
    createTime: timestampFromMs(key.createdAt),
    expireTime: time(key.expiresAt),
    revokeTime: time(key.revokedAt),
    lastUsedTime: time(key.lastUsedAt),
  };
}

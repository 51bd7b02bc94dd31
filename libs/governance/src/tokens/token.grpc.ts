import type { Metadata } from '@grpc/grpc-js';
import type { DescMessage, MessageInitShape } from '@bufbuild/protobuf';
import { timestampDate, timestampFromMs } from '@bufbuild/protobuf/wkt';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { Authenticated, callerOf, PermissionDeniedError, Public } from '@trellis/platform';
import type {
  ApiKeySchema,
  CreateApiKeyRequest,
  CreateApiKeyResponseSchema,
  ExchangeApiKeyRequest,
  ExchangeApiKeyResponseSchema,
  GetSigningKeysResponseSchema,
  ListApiKeysRequest,
  ListApiKeysResponseSchema,
  RevokeApiKeyRequest,
  RevokeApiKeyResponseSchema,
  RotateSigningKeyResponseSchema,
} from '@trellis/proto';
import { SigningKeys } from './signing-keys';
import { TokenService } from './token.service';
import type { ApiKeyEntity } from './tokens.entities';

type Reply<S extends DescMessage> = Promise<MessageInitShape<S>>;

/** TokenService handlers. */
@Controller()
export class TokenGrpc {
  constructor(
    private readonly tokens: TokenService,
    private readonly signingKeys: SigningKeys,
  ) {}

  @GrpcMethod('TokenService', 'CreateApiKey')
  @Authenticated('create', 'ApiKey')
  async createApiKey(request: CreateApiKeyRequest, metadata: Metadata): Reply<typeof CreateApiKeyResponseSchema> {
    const caller = callerOf(metadata);
    const { apiKey, secret } = await this.tokens.createApiKey(caller, {
      principalId: request.principalId,
      name: request.name,
      projectIds: request.projectIds,
      expiresAt: request.expireTime ? timestampDate(request.expireTime).getTime() : null,
    });
    return { apiKey: apiKeyToProto(apiKey), secret };
  }

  @GrpcMethod('TokenService', 'ListApiKeys')
  @Authenticated('read', 'ApiKey')
  async listApiKeys(request: ListApiKeysRequest, metadata: Metadata): Reply<typeof ListApiKeysResponseSchema> {
    const caller = callerOf(metadata);
    return { apiKeys: (await this.tokens.listApiKeys(caller, request.principalId)).map(apiKeyToProto) };
  }

  @GrpcMethod('TokenService', 'RevokeApiKey')
  @Authenticated('delete', 'ApiKey')
  async revokeApiKey(request: RevokeApiKeyRequest, metadata: Metadata): Reply<typeof RevokeApiKeyResponseSchema> {
    const caller = callerOf(metadata);
    return { apiKey: apiKeyToProto(await this.tokens.revokeApiKey(caller, request.apiKeyId)) };
  }

  @GrpcMethod('TokenService', 'ExchangeApiKey')
  @Public()
  async exchangeApiKey(request: ExchangeApiKeyRequest, metadata: Metadata): Reply<typeof ExchangeApiKeyResponseSchema> {
    const caller = callerOf(metadata);
    const { token, expiresAt } = await this.tokens.exchange(request.apiKey, caller.clientAddress);
    return { token, expireTime: timestampFromMs(expiresAt) };
  }

  @GrpcMethod('TokenService', 'GetSigningKeys')
  @Public()
  async getSigningKeys(): Reply<typeof GetSigningKeysResponseSchema> {
    return { jwksJson: JSON.stringify(await this.signingKeys.keySet()) };
  }

  @GrpcMethod('TokenService', 'RotateSigningKey')
  @Authenticated('manage', 'SigningKey')
  async rotateSigningKey(_request: unknown, metadata: Metadata): Reply<typeof RotateSigningKeyResponseSchema> {
    const caller = callerOf(metadata);
    if (!caller.principal?.orgAdmin) throw new PermissionDeniedError(`${caller.principal?.id} is not an org admin; only org admins rotate signing keys`);
    return { keyId: await this.signingKeys.rotate() };
  }
}

function apiKeyToProto(key: ApiKeyEntity): MessageInitShape<typeof ApiKeySchema> {
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

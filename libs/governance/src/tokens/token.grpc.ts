import type { Metadata } from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { timestampDate, timestampFromMs } from '@bufbuild/protobuf/wkt';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { Authenticated, callerOf, Public } from '@trellis/platform';
import {
  CreateApiKeyResponseSchema,
  ExchangeApiKeyResponseSchema,
  GetSigningKeysResponseSchema,
  ListApiKeysResponseSchema,
  RevokeApiKeyResponseSchema,
  RotateSigningKeyResponseSchema,
  type CreateApiKeyRequest,
  type CreateApiKeyResponse,
  type ExchangeApiKeyRequest,
  type ExchangeApiKeyResponse,
  type GetSigningKeysResponse,
  type ListApiKeysRequest,
  type ListApiKeysResponse,
  type RevokeApiKeyRequest,
  type RevokeApiKeyResponse,
  type RotateSigningKeyResponse,
} from '@trellis/proto';
import { apiKeyToProto } from './token.mapping';
import { TokenService } from './token.service';

/** TokenService handlers. */
@Controller()
export class TokenGrpc {
  constructor(private readonly tokens: TokenService) {}

  @GrpcMethod('TokenService', 'CreateApiKey')
  @Authenticated('create', 'ApiKey')
  async createApiKey(request: CreateApiKeyRequest, metadata: Metadata): Promise<CreateApiKeyResponse> {
    const caller = callerOf(metadata);
    const { apiKey, secret } = await this.tokens.createApiKey(caller, {
      principalId: request.principalId,
      name: request.name,
      projectIds: request.projectIds,
      expiresAt: request.expireTime ? timestampDate(request.expireTime).getTime() : null,
    });
    return create(CreateApiKeyResponseSchema, { apiKey: apiKeyToProto(apiKey), secret });
  }

  @GrpcMethod('TokenService', 'ListApiKeys')
  @Authenticated('read', 'ApiKey')
  async listApiKeys(request: ListApiKeysRequest, metadata: Metadata): Promise<ListApiKeysResponse> {
    const caller = callerOf(metadata);
    const { apiKeys, nextPageToken } = await this.tokens.listApiKeys(caller, request);
    return create(ListApiKeysResponseSchema, { apiKeys: apiKeys.map(apiKeyToProto), nextPageToken });
  }

  @GrpcMethod('TokenService', 'RevokeApiKey')
  @Authenticated('delete', 'ApiKey')
  async revokeApiKey(request: RevokeApiKeyRequest, metadata: Metadata): Promise<RevokeApiKeyResponse> {
    const caller = callerOf(metadata);
    return create(RevokeApiKeyResponseSchema, { apiKey: apiKeyToProto(await this.tokens.revokeApiKey(caller, request.apiKeyId)) });
  }

  @GrpcMethod('TokenService', 'ExchangeApiKey')
  @Public()
  async exchangeApiKey(request: ExchangeApiKeyRequest, metadata: Metadata): Promise<ExchangeApiKeyResponse> {
    const caller = callerOf(metadata);
    const { token, expiresAt } = await this.tokens.exchange(request.apiKey, caller.clientAddress);
    return create(ExchangeApiKeyResponseSchema, { token, expireTime: timestampFromMs(expiresAt) });
  }

  @GrpcMethod('TokenService', 'GetSigningKeys')
  @Public()
  async getSigningKeys(): Promise<GetSigningKeysResponse> {
    return create(GetSigningKeysResponseSchema, { jwksJson: JSON.stringify(await this.tokens.signingKeySet()) });
  }

  @GrpcMethod('TokenService', 'RotateSigningKey')
  @Authenticated('manage', 'SigningKey')
  async rotateSigningKey(_request: unknown, metadata: Metadata): Promise<RotateSigningKeyResponse> {
    return create(RotateSigningKeyResponseSchema, { keyId: await this.tokens.rotateSigningKey(callerOf(metadata)) });
  }
}

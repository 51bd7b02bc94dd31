import type { Metadata } from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { callerOf, InvalidArgumentError, Requires } from '@trellis/platform';
import {
  DeleteAliasResponseSchema,
  GetVersionByAliasResponseSchema,
  ListAliasHistoryResponseSchema,
  SetAliasResponseSchema,
  type DeleteAliasRequest,
  type DeleteAliasResponse,
  type GetVersionByAliasRequest,
  type GetVersionByAliasResponse,
  type ListAliasHistoryRequest,
  type ListAliasHistoryResponse,
  type SetAliasRequest,
  type SetAliasResponse,
} from '@trellis/proto';
import { versionToProto } from '../versions/version.mapping';
import { changeToProto } from './alias.mapping';
import { AliasService } from './alias.service';

/** Handlers of the alias methods of `trellis.registry.v1.RegistryService`. */
@Controller()
export class AliasGrpc {
  constructor(private readonly aliases: AliasService) {}

  @GrpcMethod('RegistryService', 'SetAlias')
  @Requires('update', 'Alias')
  async setAlias(request: SetAliasRequest, metadata: Metadata): Promise<SetAliasResponse> {
    const change = await this.aliases.set(callerOf(metadata), request);
    return create(SetAliasResponseSchema, { change: changeToProto(change) });
  }

  @GrpcMethod('RegistryService', 'DeleteAlias')
  @Requires('delete', 'Alias')
  async deleteAlias(request: DeleteAliasRequest, metadata: Metadata): Promise<DeleteAliasResponse> {
    const change = await this.aliases.delete(callerOf(metadata), { ...request, version: undefined });
    return create(DeleteAliasResponseSchema, { change: changeToProto(change) });
  }

  @GrpcMethod('RegistryService', 'GetVersionByAlias')
  @Requires('read', 'Alias')
  async getVersionByAlias(request: GetVersionByAliasRequest, metadata: Metadata): Promise<GetVersionByAliasResponse> {
    const atTimeMs = Number(request.atTimeMs);
    // 8.64e15 ms is the last moment a date can name (year 275760).
    if (!Number.isSafeInteger(atTimeMs) || atTimeMs < 0 || atTimeMs > 8.64e15) {
      throw new InvalidArgumentError('must be milliseconds since the epoch, from 0 to 8640000000000000', 'at_time_ms');
    }
    const view = await this.aliases.resolve(callerOf(metadata), request.projectId, request.name, request.alias, atTimeMs);
    return create(GetVersionByAliasResponseSchema, { version: versionToProto(view) });
  }

  @GrpcMethod('RegistryService', 'ListAliasHistory')
  @Requires('read', 'Alias')
  async listAliasHistory(request: ListAliasHistoryRequest, metadata: Metadata): Promise<ListAliasHistoryResponse> {
    const page = await this.aliases.history(callerOf(metadata), request.projectId, request.name, request.alias, request.pageSize, request.pageToken);
    return create(ListAliasHistoryResponseSchema, { changes: page.changes.map(changeToProto), nextPageToken: page.nextPageToken });
  }
}

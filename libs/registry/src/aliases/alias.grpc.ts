import type { Metadata } from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import type { Timestamp } from '@bufbuild/protobuf/wkt';
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

/** The latest moment a JavaScript date can name (year 275760), as seconds since the epoch. */
const LAST_SECOND = 8.64e12;

/**
 * A GetVersionByAlias moment in milliseconds since the epoch; undefined (now) when unset. The
 * history is kept to the millisecond, so a finer moment counts as the millisecond it falls in.
 */
function atTimeOf(time: Timestamp | undefined): number | undefined {
  if (!time) return undefined;
  const seconds = Number(time.seconds);
  if (seconds < 0 || seconds > LAST_SECOND || time.nanos < 0 || time.nanos > 999_999_999) {
    throw new InvalidArgumentError('must be a moment from 1970-01-01T00:00:00Z to the year 275760', 'at_time');
  }
  return seconds * 1000 + Math.floor(time.nanos / 1_000_000);
}

/** Handlers of the alias methods of `trellis.registry.v1.RegistryService`. */
@Controller()
export class AliasGrpc {
  constructor(private readonly aliases: AliasService) {}

  @GrpcMethod('RegistryService', 'SetAlias')
  @Requires('update', 'Alias')
  async setAlias(request: SetAliasRequest, metadata: Metadata): Promise<SetAliasResponse> {
    const { projectId, modelName: name, alias, version, approvalId } = request;
    const change = await this.aliases.set(callerOf(metadata), { projectId, name, alias, version, approvalId });
    return create(SetAliasResponseSchema, { change: changeToProto(change) });
  }

  @GrpcMethod('RegistryService', 'DeleteAlias')
  @Requires('delete', 'Alias')
  async deleteAlias(request: DeleteAliasRequest, metadata: Metadata): Promise<DeleteAliasResponse> {
    const { projectId, modelName: name, alias, approvalId } = request;
    const change = await this.aliases.delete(callerOf(metadata), { projectId, name, alias, approvalId });
    return create(DeleteAliasResponseSchema, { change: changeToProto(change) });
  }

  @GrpcMethod('RegistryService', 'GetVersionByAlias')
  @Requires('read', 'Alias')
  async getVersionByAlias(request: GetVersionByAliasRequest, metadata: Metadata): Promise<GetVersionByAliasResponse> {
    const view = await this.aliases.resolve(callerOf(metadata), request.projectId, request.modelName, request.alias, atTimeOf(request.atTime));
    return create(GetVersionByAliasResponseSchema, { version: versionToProto(view) });
  }

  @GrpcMethod('RegistryService', 'ListAliasHistory')
  @Requires('read', 'Alias')
  async listAliasHistory(request: ListAliasHistoryRequest, metadata: Metadata): Promise<ListAliasHistoryResponse> {
    const page = await this.aliases.history(callerOf(metadata), request.projectId, request.modelName, request.alias, request.pageSize, request.pageToken);
    return create(ListAliasHistoryResponseSchema, { changes: page.changes.map(changeToProto), nextPageToken: page.nextPageToken });
  }
}

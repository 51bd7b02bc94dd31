import { create, type JsonObject } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { Metadata } from '@grpc/grpc-js';
import { Controller, Module } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { PLUGIN_KINDS, type PluginKind as Kind } from '@trellis/plugin-sdk';
import {
  type CreatePluginInstanceRequest,
  type CreatePluginInstanceResponse,
  CreatePluginInstanceResponseSchema,
  type DeletePluginInstanceRequest,
  type DeletePluginInstanceResponse,
  DeletePluginInstanceResponseSchema,
  type GetPluginInstanceRequest,
  type GetPluginInstanceResponse,
  GetPluginInstanceResponseSchema,
  type GetProjectPluginInstanceRequest,
  type GetProjectPluginInstanceResponse,
  GetProjectPluginInstanceResponseSchema,
  type ListPluginInstancesRequest,
  type ListPluginInstancesResponse,
  ListPluginInstancesResponseSchema,
  type PluginInstance,
  PluginInstanceSchema,
  PluginInstanceSource,
  PluginKind,
  type SetProjectPluginInstanceRequest,
  type SetProjectPluginInstanceResponse,
  SetProjectPluginInstanceResponseSchema,
} from '@trellis/proto';
import { Authenticated, type Caller, callerOf } from '../auth';
import { InvalidArgumentError, PermissionDeniedError } from '../errors';
import { decodePageToken, encodePageToken, pageSizeOf } from '../grpc/paging';
import type { InstanceInfo, PluginInstances } from './plugin-instances';
import { ServicePluginInstances } from './service-plugin-instances';

const KIND_OF: Readonly<Record<number, Kind>> = {
  [PluginKind.STORAGE]: 'storage',
  [PluginKind.COMPUTE]: 'compute',
  [PluginKind.DRIFT]: 'drift',
  [PluginKind.RUNTIME]: 'runtime',
  [PluginKind.KMS]: 'kms',
  [PluginKind.NOTIFIER]: 'notifier',
};
const PROTO_KIND = Object.fromEntries(Object.entries(KIND_OF).map(([value, kind]) => [kind, Number(value)])) as Record<Kind, PluginKind>;

/** INVALID_ARGUMENT naming `project_id` when a request names no project. */
function requireProject(projectId: string): void {
  if (!projectId) throw new InvalidArgumentError('name the project whose choice this is', 'project_id');
}

/** What `kind` a request names, as the SDK spells it; INVALID_ARGUMENT naming `kind` for none. */
function kindOf(kind: PluginKind): Kind {
  const named = KIND_OF[kind];
  if (!named) throw new InvalidArgumentError(`must be one of ${PLUGIN_KINDS.map((k) => `PLUGIN_KIND_${k.toUpperCase()}`).join(', ')}`, 'kind');
  return named;
}

/**
 * The handlers of `trellis.plugins.v1.PluginInstanceService`, which the kit serves for every
 * service that declares plugins: instances are managed by org admins, a project's choice by its admins.
 */
@Controller()
export class PluginInstanceGrpc {
  constructor(private readonly services: ServicePluginInstances) {}

  @GrpcMethod('PluginInstanceService', 'CreatePluginInstance')
  @Authenticated('create', 'PluginInstance')
  async createPluginInstance(request: CreatePluginInstanceRequest, metadata: Metadata): Promise<CreatePluginInstanceResponse> {
    const caller = callerOf(metadata);
    const instances = this.instancesFor(request);
    this.assertOrgAdmin(caller, instances, request.name);
    const info = await instances.create({ name: request.name, plugin: request.plugin, config: request.config ?? {} }, caller.authenticated.id);
    return create(CreatePluginInstanceResponseSchema, { instance: this.message(info) });
  }

  @GrpcMethod('PluginInstanceService', 'GetPluginInstance')
  @Authenticated('read', 'PluginInstance')
  async getPluginInstance(request: GetPluginInstanceRequest, metadata: Metadata): Promise<GetPluginInstanceResponse> {
    const instances = this.instancesFor(request);
    this.assertMayRead(callerOf(metadata), instances, request.name);
    const info = await instances.describe(request.name);
    const instance = this.message(info);
    instance.health = await instances.health(request.name).then(
      (health) => ({ $typeName: 'trellis.plugins.v1.PluginInstanceHealth' as const, ok: health.ok, message: health.ok ? '' : health.message }),
      (error: Error) => ({ $typeName: 'trellis.plugins.v1.PluginInstanceHealth' as const, ok: false, message: error.message }),
    );
    return create(GetPluginInstanceResponseSchema, { instance });
  }

  @GrpcMethod('PluginInstanceService', 'ListPluginInstances')
  @Authenticated('read', 'PluginInstance')
  async listPluginInstances(request: ListPluginInstancesRequest, metadata: Metadata): Promise<ListPluginInstancesResponse> {
    const size = pageSizeOf(request.pageSize);
    const instances = this.instancesFor(request);
    this.assertMayRead(callerOf(metadata), instances);
    const query = { service: request.service, kind: request.kind };
    const after = decodePageToken(request.pageToken, query);
    // Configured instances first, then the API's, each by name: a position is `<0|1>/<name>`.
    const positionOf = (info: InstanceInfo) => `${info.source === 'config' ? 0 : 1}/${info.name}`;
    const ordered = (await instances.list()).sort((a, b) => (positionOf(a) < positionOf(b) ? -1 : 1));
    const rest = after === undefined ? ordered : ordered.filter((info) => positionOf(info) > after);
    const page = rest.slice(0, size);
    const nextPageToken = rest.length > size ? encodePageToken(positionOf(page[page.length - 1]), query) : '';
    return create(ListPluginInstancesResponseSchema, { instances: page.map((info) => this.message(info)), nextPageToken });
  }

  @GrpcMethod('PluginInstanceService', 'DeletePluginInstance')
  @Authenticated('delete', 'PluginInstance')
  async deletePluginInstance(request: DeletePluginInstanceRequest, metadata: Metadata): Promise<DeletePluginInstanceResponse> {
    const instances = this.instancesFor(request);
    this.assertOrgAdmin(callerOf(metadata), instances, request.name);
    await instances.delete(request.name);
    return create(DeletePluginInstanceResponseSchema, {});
  }

  @GrpcMethod('PluginInstanceService', 'SetProjectPluginInstance')
  @Authenticated('update', 'Project')
  async setProjectPluginInstance(request: SetProjectPluginInstanceRequest, metadata: Metadata): Promise<SetProjectPluginInstanceResponse> {
    const instances = this.instancesFor(request);
    requireProject(request.projectId);
    callerOf(metadata).assert('update', 'Project', { projectId: request.projectId, id: request.projectId });
    await instances.choose(request.projectId, request.name);
    return create(SetProjectPluginInstanceResponseSchema, { name: request.name });
  }

  @GrpcMethod('PluginInstanceService', 'GetProjectPluginInstance')
  @Authenticated('read', 'Project')
  async getProjectPluginInstance(request: GetProjectPluginInstanceRequest, metadata: Metadata): Promise<GetProjectPluginInstanceResponse> {
    const instances = this.instancesFor(request);
    requireProject(request.projectId);
    callerOf(metadata).assert('read', 'Project', { projectId: request.projectId, id: request.projectId });
    return create(GetProjectPluginInstanceResponseSchema, { name: await instances.choiceFor(request.projectId) });
  }

  /** The service's instances of the request's kind, refusing a request meant for another service. */
  private instancesFor(request: { service: string; kind: PluginKind }): PluginInstances<Kind> {
    if (request.service !== this.services.service) {
      throw new InvalidArgumentError(`this is the ${this.services.service} service; send the call to ${JSON.stringify(request.service.slice(0, 100))}'s own address`, 'service', {
        reason: 'PLUGIN_SERVICE_MISMATCH',
      });
    }
    return this.services.of(kindOf(request.kind));
  }

  /** Instances are the org's: only its admins create and delete them. The instance is the call's audit target. */
  private assertOrgAdmin(caller: Caller, instances: PluginInstances<Kind>, name: string): void {
    caller.assertOrgAdmin(`manage ${instances.kind} instances of ${instances.service}`, { kind: 'PluginInstance', name: instances.resourceOf(name) });
  }

  /** Org admins, and project admins who choose among them, may read instances (secrets are never in what they get). */
  private assertMayRead(caller: Caller, instances: PluginInstances<Kind>, name?: string): void {
    const principal = caller.authenticated;
    if (principal.orgAdmin || caller.boundProjectsWhere('update', 'Project').length > 0) return;
    throw new PermissionDeniedError(`${principal.id} may not read ${instances.kind} instances of ${instances.service}: org admins and project admins may`, {
      reason: 'ORG_ADMIN_REQUIRED',
      resource: name === undefined ? undefined : instances.resourceOf(name),
    });
  }

  private message(info: InstanceInfo): PluginInstance {
    return create(PluginInstanceSchema, {
      service: this.services.service,
      kind: PROTO_KIND[info.kind],
      name: info.name,
      plugin: info.plugin,
      config: (info.config ?? {}) as JsonObject,
      source: info.source === 'config' ? PluginInstanceSource.CONFIG : PluginInstanceSource.API,
      createTime: info.createTime ? timestampFromDate(info.createTime) : undefined,
      creator: info.creator ?? '',
    });
  }
}

/** The admin API's handlers, which the kit adds to the container of every service that declares plugins. */
@Module({ controllers: [PluginInstanceGrpc] })
export class PluginInstanceAdminModule {}

import type { Metadata } from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { callerOf, decodePageToken, InvalidArgumentError, pageOf, pageSizeOf, Requires } from '@trellis/platform';
import {
  CreatePrincipalResponseSchema,
  CreateProjectResponseSchema,
  DeleteRoleBindingResponseSchema,
  GetProjectResponseSchema,
  ListPrincipalsResponseSchema,
  ListProjectsResponseSchema,
  ListRoleBindingsResponseSchema,
  SetRoleBindingResponseSchema,
  UpdateProjectResponseSchema,
  type CreatePrincipalRequest,
  type CreatePrincipalResponse,
  type CreateProjectRequest,
  type CreateProjectResponse,
  type DeleteRoleBindingRequest,
  type DeleteRoleBindingResponse,
  type GetProjectRequest,
  type GetProjectResponse,
  type ListPrincipalsRequest,
  type ListPrincipalsResponse,
  type ListProjectsRequest,
  type ListProjectsResponse,
  type ListRoleBindingsRequest,
  type ListRoleBindingsResponse,
  type SetRoleBindingRequest,
  type SetRoleBindingResponse,
  type UpdateProjectRequest,
  type UpdateProjectResponse,
} from '@trellis/proto';
import { bindingToProto, principalKindFromProto, principalToProto, projectToProto, roleFromProto } from './identity.mapping';
import { IdentityService } from './identity.service';

/** IdentityService handlers: map proto to the service and back. */
@Controller()
export class IdentityGrpc {
  constructor(private readonly identity: IdentityService) {}

  @GrpcMethod('IdentityService', 'CreateProject')
  @Requires('create', 'Project')
  async createProject(request: CreateProjectRequest, metadata: Metadata): Promise<CreateProjectResponse> {
    const caller = callerOf(metadata);
    const { name, description, encryptAtRest } = request;
    return create(CreateProjectResponseSchema, { project: projectToProto(await this.identity.createProject(caller, { name, description, encryptAtRest })) });
  }

  @GrpcMethod('IdentityService', 'GetProject')
  @Requires('read', 'Project')
  async getProject(request: GetProjectRequest, metadata: Metadata): Promise<GetProjectResponse> {
    const caller = callerOf(metadata);
    return create(GetProjectResponseSchema, { project: projectToProto(await this.identity.getProject(caller, request.projectId)) });
  }

  @GrpcMethod('IdentityService', 'ListProjects')
  @Requires('read', 'Project')
  async listProjects(request: ListProjectsRequest, metadata: Metadata): Promise<ListProjectsResponse> {
    const caller = callerOf(metadata);
    const size = pageSizeOf(request.pageSize);
    const listing = { list: 'projects', orgId: caller.authenticated.orgId };
    const rows = await this.identity.listProjects(caller, { size: size + 1, after: decodePageToken(request.pageToken, listing) });
    const { items, nextPageToken } = pageOf(rows, size, (project) => project.name, listing);
    return create(ListProjectsResponseSchema, { projects: items.map(projectToProto), nextPageToken });
  }

  @GrpcMethod('IdentityService', 'UpdateProject')
  @Requires('update', 'Project')
  async updateProject(request: UpdateProjectRequest, metadata: Metadata): Promise<UpdateProjectResponse> {
    const caller = callerOf(metadata);
    if (!request.project) throw new InvalidArgumentError('is required: its id and the new values of the fields in update_mask', 'project');
    const { id: projectId, description, encryptAtRest } = request.project;
    const project = await this.identity.updateProject(caller, { projectId, description, encryptAtRest, updateMask: request.updateMask?.paths ?? [] });
    return create(UpdateProjectResponseSchema, { project: projectToProto(project) });
  }

  @GrpcMethod('IdentityService', 'CreatePrincipal')
  @Requires('create', 'Principal')
  async createPrincipal(request: CreatePrincipalRequest, metadata: Metadata): Promise<CreatePrincipalResponse> {
    const caller = callerOf(metadata);
    const kind = principalKindFromProto(request.kind, 'kind');
    const { name, displayName, orgAdmin } = request;
    const principal = await this.identity.createPrincipal(caller, { kind, name, displayName, orgAdmin });
    return create(CreatePrincipalResponseSchema, { principal: principalToProto(principal) });
  }

  @GrpcMethod('IdentityService', 'ListPrincipals')
  @Requires('read', 'Principal')
  async listPrincipals(request: ListPrincipalsRequest, metadata: Metadata): Promise<ListPrincipalsResponse> {
    const caller = callerOf(metadata);
    const size = pageSizeOf(request.pageSize);
    const listing = { list: 'principals', orgId: caller.authenticated.orgId };
    const rows = await this.identity.listPrincipals(caller, { size: size + 1, after: decodePageToken(request.pageToken, listing) });
    const { items, nextPageToken } = pageOf(rows, size, (principal) => principal.name, listing);
    return create(ListPrincipalsResponseSchema, { principals: items.map(principalToProto), nextPageToken });
  }

  @GrpcMethod('IdentityService', 'SetRoleBinding')
  @Requires('create', 'Member')
  async setRoleBinding(request: SetRoleBindingRequest, metadata: Metadata): Promise<SetRoleBindingResponse> {
    const caller = callerOf(metadata);
    const binding = request.binding;
    if (!binding) throw new InvalidArgumentError('is required', 'binding');
    const stored = await this.identity.setRoleBinding(caller, {
      projectId: binding.projectId,
      principalId: binding.principalId,
      role: roleFromProto(binding.role, 'binding.role'),
    });
    return create(SetRoleBindingResponseSchema, { binding: bindingToProto(stored) });
  }

  @GrpcMethod('IdentityService', 'DeleteRoleBinding')
  @Requires('delete', 'Member')
  async deleteRoleBinding(request: DeleteRoleBindingRequest, metadata: Metadata): Promise<DeleteRoleBindingResponse> {
    const caller = callerOf(metadata);
    await this.identity.deleteRoleBinding(caller, request.projectId, request.principalId);
    return create(DeleteRoleBindingResponseSchema);
  }

  @GrpcMethod('IdentityService', 'ListRoleBindings')
  @Requires('read', 'Member')
  async listRoleBindings(request: ListRoleBindingsRequest, metadata: Metadata): Promise<ListRoleBindingsResponse> {
    const caller = callerOf(metadata);
    const size = pageSizeOf(request.pageSize);
    const listing = { projectId: request.projectId };
    const rows = await this.identity.listRoleBindings(caller, request.projectId, { size: size + 1, after: decodePageToken(request.pageToken, listing) });
    const { items, nextPageToken } = pageOf(rows, size, (binding) => binding.principalId, listing);
    return create(ListRoleBindingsResponseSchema, { bindings: items.map(bindingToProto), nextPageToken });
  }
}

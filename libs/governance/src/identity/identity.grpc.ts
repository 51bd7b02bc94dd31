import type { Metadata } from '@grpc/grpc-js';
import type { DescMessage, MessageInitShape } from '@bufbuild/protobuf';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { callerOf, decodePageToken, InvalidArgumentError, pageOf, pageSizeOf, Requires } from '@trellis/platform';
import {
  PrincipalKind,
  type CreatePrincipalRequest,
  type CreatePrincipalResponseSchema,
  type CreateProjectRequest,
  type CreateProjectResponseSchema,
  type DeleteRoleBindingRequest,
  type DeleteRoleBindingResponseSchema,
  type GetProjectRequest,
  type GetProjectResponseSchema,
  type ListPrincipalsRequest,
  type ListPrincipalsResponseSchema,
  type ListProjectsRequest,
  type ListProjectsResponseSchema,
  type ListRoleBindingsRequest,
  type ListRoleBindingsResponseSchema,
  type SetRoleBindingRequest,
  type SetRoleBindingResponseSchema,
  type UpdateProjectRequest,
  type UpdateProjectResponseSchema,
} from '@trellis/proto';
import { bindingToProto, principalToProto, projectToProto, roleFromProto } from './identity.mapping';
import { IdentityService } from './identity.service';

type Reply<S extends DescMessage> = Promise<MessageInitShape<S>>;

/** IdentityService handlers: map proto to the service and back. */
@Controller()
export class IdentityGrpc {
  constructor(private readonly identity: IdentityService) {}

  @GrpcMethod('IdentityService', 'CreateProject')
  @Requires('create', 'Project')
  async createProject(request: CreateProjectRequest, metadata: Metadata): Reply<typeof CreateProjectResponseSchema> {
    const caller = callerOf(metadata);
    return { project: projectToProto(await this.identity.createProject(caller, request)) };
  }

  @GrpcMethod('IdentityService', 'GetProject')
  @Requires('read', 'Project')
  async getProject(request: GetProjectRequest, metadata: Metadata): Reply<typeof GetProjectResponseSchema> {
    const caller = callerOf(metadata);
    return { project: projectToProto(await this.identity.getProject(caller, request.projectId)) };
  }

  @GrpcMethod('IdentityService', 'ListProjects')
  @Requires('read', 'Project')
  async listProjects(request: ListProjectsRequest, metadata: Metadata): Reply<typeof ListProjectsResponseSchema> {
    const caller = callerOf(metadata);
    const size = pageSizeOf(request.pageSize);
    const rows = await this.identity.listProjects(caller, { size: size + 1, after: decodePageToken(request.pageToken) });
    const { items, nextPageToken } = pageOf(rows, size, (project) => project.name);
    return { projects: items.map(projectToProto), nextPageToken };
  }

  @GrpcMethod('IdentityService', 'UpdateProject')
  @Requires('update', 'Project')
  async updateProject(request: UpdateProjectRequest, metadata: Metadata): Reply<typeof UpdateProjectResponseSchema> {
    const caller = callerOf(metadata);
    return { project: projectToProto(await this.identity.updateProject(caller, request)) };
  }

  @GrpcMethod('IdentityService', 'CreatePrincipal')
  @Requires('create', 'Principal')
  async createPrincipal(request: CreatePrincipalRequest, metadata: Metadata): Reply<typeof CreatePrincipalResponseSchema> {
    const caller = callerOf(metadata);
    if (request.kind === PrincipalKind.UNSPECIFIED) throw new InvalidArgumentError('must be PRINCIPAL_KIND_USER or PRINCIPAL_KIND_SERVICE_ACCOUNT', 'kind');
    const kind = request.kind === PrincipalKind.USER ? 'user' : 'service_account';
    const principal = await this.identity.createPrincipal(caller, { ...request, kind });
    return { principal: principalToProto(principal) };
  }

  @GrpcMethod('IdentityService', 'ListPrincipals')
  @Requires('read', 'Principal')
  async listPrincipals(request: ListPrincipalsRequest, metadata: Metadata): Reply<typeof ListPrincipalsResponseSchema> {
    const caller = callerOf(metadata);
    const size = pageSizeOf(request.pageSize);
    const rows = await this.identity.listPrincipals(caller, { size: size + 1, after: decodePageToken(request.pageToken) });
    const { items, nextPageToken } = pageOf(rows, size, (principal) => principal.name);
    return { principals: items.map(principalToProto), nextPageToken };
  }

  @GrpcMethod('IdentityService', 'SetRoleBinding')
  @Requires('create', 'Member')
  async setRoleBinding(request: SetRoleBindingRequest, metadata: Metadata): Reply<typeof SetRoleBindingResponseSchema> {
    const caller = callerOf(metadata);
    const binding = request.binding;
    if (!binding) throw new InvalidArgumentError('is required', 'binding');
    const stored = await this.identity.setRoleBinding(caller, {
      projectId: binding.projectId,
      principalId: binding.principalId,
      role: roleFromProto(binding.role, 'binding.role'),
    });
    return { binding: bindingToProto(stored) };
  }

  @GrpcMethod('IdentityService', 'DeleteRoleBinding')
  @Requires('delete', 'Member')
  async deleteRoleBinding(request: DeleteRoleBindingRequest, metadata: Metadata): Reply<typeof DeleteRoleBindingResponseSchema> {
    const caller = callerOf(metadata);
    await this.identity.deleteRoleBinding(caller, request.projectId, request.principalId);
    return {};
  }

  @GrpcMethod('IdentityService', 'ListRoleBindings')
  @Requires('read', 'Member')
  async listRoleBindings(request: ListRoleBindingsRequest, metadata: Metadata): Reply<typeof ListRoleBindingsResponseSchema> {
    const caller = callerOf(metadata);
    const bindings = await this.identity.listRoleBindings(caller, request.projectId);
    return { bindings: bindings.map(bindingToProto) };
  }
}

import type { DescMessage, MessageInitShape } from '@bufbuild/protobuf';
import { Controller } from '@nestjs/common';
import { GrpcMethod, Payload } from '@nestjs/microservices';
import { CurrentCaller, InvalidArgumentError, Requires, type Caller } from '@trellis/platform';
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
import { nextPageToken, readPage } from '../paging';
import { bindingToProto, principalToProto, projectToProto, roleFromProto } from './identity.mapping';
import { IdentityService } from './identity.service';

type Reply<S extends DescMessage> = Promise<MessageInitShape<S>>;

/** IdentityService handlers: map proto to the service and back. */
@Controller()
export class IdentityGrpc {
  constructor(private readonly identity: IdentityService) {}

  @GrpcMethod('IdentityService', 'CreateProject')
  @Requires('create', 'Project')
  async createProject(@Payload() request: CreateProjectRequest, @CurrentCaller() caller: Caller): Reply<typeof CreateProjectResponseSchema> {
    return { project: projectToProto(await this.identity.createProject(caller, request)) };
  }

  @GrpcMethod('IdentityService', 'GetProject')
  @Requires('read', 'Project')
  async getProject(@Payload() request: GetProjectRequest, @CurrentCaller() caller: Caller): Reply<typeof GetProjectResponseSchema> {
    return { project: projectToProto(await this.identity.getProject(caller, request.projectId)) };
  }

  @GrpcMethod('IdentityService', 'ListProjects')
  @Requires('read', 'Project')
  async listProjects(@Payload() request: ListProjectsRequest, @CurrentCaller() caller: Caller): Reply<typeof ListProjectsResponseSchema> {
    const page = readPage(request.pageSize, request.pageToken);
    const projects = await this.identity.listProjects(caller, page);
    return { projects: projects.map(projectToProto), nextPageToken: nextPageToken(projects, page.size, (p) => p.name) };
  }

  @GrpcMethod('IdentityService', 'UpdateProject')
  @Requires('update', 'Project')
  async updateProject(@Payload() request: UpdateProjectRequest, @CurrentCaller() caller: Caller): Reply<typeof UpdateProjectResponseSchema> {
    return { project: projectToProto(await this.identity.updateProject(caller, request)) };
  }

  @GrpcMethod('IdentityService', 'CreatePrincipal')
  @Requires('create', 'Principal')
  async createPrincipal(@Payload() request: CreatePrincipalRequest, @CurrentCaller() caller: Caller): Reply<typeof CreatePrincipalResponseSchema> {
    if (request.kind === PrincipalKind.UNSPECIFIED) throw new InvalidArgumentError('must be PRINCIPAL_KIND_USER or PRINCIPAL_KIND_SERVICE_ACCOUNT', 'kind');
    const kind = request.kind === PrincipalKind.USER ? 'user' : 'service_account';
    const principal = await this.identity.createPrincipal(caller, { ...request, kind });
    return { principal: principalToProto(principal) };
  }

  @GrpcMethod('IdentityService', 'ListPrincipals')
  @Requires('read', 'Principal')
  async listPrincipals(@Payload() request: ListPrincipalsRequest, @CurrentCaller() caller: Caller): Reply<typeof ListPrincipalsResponseSchema> {
    const page = readPage(request.pageSize, request.pageToken);
    const principals = await this.identity.listPrincipals(caller, page);
    return { principals: principals.map(principalToProto), nextPageToken: nextPageToken(principals, page.size, (p) => p.name) };
  }

  @GrpcMethod('IdentityService', 'SetRoleBinding')
  @Requires('create', 'Member')
  async setRoleBinding(@Payload() request: SetRoleBindingRequest, @CurrentCaller() caller: Caller): Reply<typeof SetRoleBindingResponseSchema> {
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
  async deleteRoleBinding(@Payload() request: DeleteRoleBindingRequest, @CurrentCaller() caller: Caller): Reply<typeof DeleteRoleBindingResponseSchema> {
    await this.identity.deleteRoleBinding(caller, request.projectId, request.principalId);
    return {};
  }

  @GrpcMethod('IdentityService', 'ListRoleBindings')
  @Requires('read', 'Member')
  async listRoleBindings(@Payload() request: ListRoleBindingsRequest, @CurrentCaller() caller: Caller): Reply<typeof ListRoleBindingsResponseSchema> {
    const bindings = await this.identity.listRoleBindings(caller, request.projectId);
    return { bindings: bindings.map(bindingToProto) };
  }
}

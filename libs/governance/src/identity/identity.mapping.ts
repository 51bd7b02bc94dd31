import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { InvalidArgumentError, type ProjectRole } from '@trellis/platform';
import { PrincipalKind, Role, type PrincipalSchema, type ProjectSchema, type RoleBindingSchema } from '@trellis/proto';
import type { PrincipalEntity, ProjectEntity, RoleBindingEntity } from './identity.entity';

const ROLES: Record<ProjectRole, Role> = { viewer: Role.VIEWER, editor: Role.EDITOR, admin: Role.ADMIN, owner: Role.OWNER };

/** The proto role of a stored one. */
export function roleToProto(role: ProjectRole): Role {
  return ROLES[role];
}

/** The stored role of a proto one; INVALID_ARGUMENT naming `field` for UNSPECIFIED or unknown values. */
export function roleFromProto(role: Role, field: string): ProjectRole {
  const found = (Object.keys(ROLES) as ProjectRole[]).find((name) => ROLES[name] === role);
  if (!found) throw new InvalidArgumentError('must be ROLE_VIEWER, ROLE_EDITOR, ROLE_ADMIN or ROLE_OWNER', field);
  return found;
}

/** The stored kind of a proto principal kind; INVALID_ARGUMENT naming `field` for UNSPECIFIED. */
export function principalKindFromProto(kind: PrincipalKind, field: string): PrincipalEntity['kind'] {
  if (kind === PrincipalKind.UNSPECIFIED) throw new InvalidArgumentError('must be PRINCIPAL_KIND_USER or PRINCIPAL_KIND_SERVICE_ACCOUNT', field);
  return kind === PrincipalKind.USER ? 'user' : 'service_account';
}

export function projectToProto(project: ProjectEntity): MessageInitShape<typeof ProjectSchema> {
  return { ...project, createTime: timestampFromMs(project.createdAt) };
}

export function principalToProto(principal: PrincipalEntity): MessageInitShape<typeof PrincipalSchema> {
  return {
    ...principal,
    kind: principal.kind === 'user' ? PrincipalKind.USER : PrincipalKind.SERVICE_ACCOUNT,
    service: principal.service ?? '',
    createTime: timestampFromMs(principal.createdAt),
  };
}

export function bindingToProto(binding: RoleBindingEntity): MessageInitShape<typeof RoleBindingSchema> {
  return { projectId: binding.projectId, principalId: binding.principalId, role: roleToProto(binding.role) };
}

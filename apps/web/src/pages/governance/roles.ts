import { ROLES, type Role } from '@trellis/client';
import type { RoleJson } from '@trellis/proto/trellis/governance/v1/resources_pb';

/** ROLE_EDITOR -> editor (undefined for ROLE_UNSPECIFIED). */
export function roleOf(role: RoleJson | undefined): Role | undefined {
  const name = (role ?? '').replace(/^ROLE_/, '').toLowerCase();
  return (ROLES as readonly string[]).includes(name) ? (name as Role) : undefined;
}

/** editor -> ROLE_EDITOR. */
export function roleJsonOf(role: Role): RoleJson {
  return `ROLE_${role.toUpperCase()}` as RoleJson;
}

/** The roles a caller holding `held` may grant or change: its own and those below it. */
export function grantableRoles(held: Role | undefined): Role[] {
  return held === undefined ? [] : ROLES.slice(0, ROLES.indexOf(held) + 1);
}

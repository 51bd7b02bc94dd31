import { AbilityBuilder, createMongoAbility, type MongoAbility } from '@casl/ability';
import type { Principal, ProjectRole } from './principal';

/** What a caller may do to a kind of resource. `manage` means every action. */
export type Action = 'read' | 'create' | 'update' | 'delete' | 'manage';

/**
 * Resource kinds are named in PascalCase by the service that owns them (`Run`, `ModelVersion`);
 * every resource belongs to a project, and rules are conditioned on its `projectId`.
 */
export type SubjectKind = string;

/** A CASL ability whose rules are conditioned on `projectId` (and `orgId` for org admins). */
export type AppAbility = MongoAbility<[Action, SubjectKind | Record<string, unknown>]>;

/**
 * Every kind of resource in Trellis, by the service that owns it. Each lives in a project; the
 * role rules below cover them all (the RBAC matrix spec walks this list).
 */
export const RESOURCE_KINDS = [
  // governance
  'Project', 'Member', 'ApiKey', 'Audit', 'Approval',
  // data
  'Dataset', 'DatasetVersion',
  // compute
  'Cluster', 'Queue', 'Job',
  // tracking
  'Experiment', 'Run',
  // registry
  'Model', 'ModelVersion', 'Alias',
  // serving and monitoring
  'Endpoint', 'Monitor', 'Alert',
] as const;

/** Kinds only a project admin or owner may change: the project itself, who is in it, its keys. */
const ACCESS_KINDS = ['Project', 'Member', 'ApiKey'];
/** Kinds only a project admin or owner may read. */
const ADMIN_READ_KINDS = ['Audit'];

/**
 * Builds the ability of a principal from its role bindings. Each rule is limited to the bound
 * project, so nothing a role grants ever reaches another project.
 */
export function abilityFor(principal: Principal): AppAbility {
  const { can, cannot, build } = new AbilityBuilder<AppAbility>(createMongoAbility);
  if (principal.orgAdmin) can('manage', 'all', { orgId: principal.orgId });
  for (const { projectId, role } of principal.bindings) {
    grant(role, projectId, can, cannot);
    // The audit log is append-only: written by the kit, never through an API.
    cannot(['create', 'update', 'delete'], 'Audit', { projectId });
  }
  return build();
}

type Grant = AbilityBuilder<AppAbility>['can'];

function grant(role: ProjectRole, projectId: string, can: Grant, cannot: Grant): void {
  const inProject = { projectId };
  switch (role) {
    case 'viewer':
      can('read', 'all', inProject);
      cannot('read', ADMIN_READ_KINDS, inProject);
      return;
    case 'editor':
      can(['read', 'create', 'update', 'delete'], 'all', inProject);
      cannot(['create', 'update', 'delete'], ACCESS_KINDS, inProject);
      cannot('read', ADMIN_READ_KINDS, inProject);
      return;
    case 'admin':
      can('manage', 'all', inProject);
      cannot('delete', 'Project', inProject);
      return;
    case 'owner':
      can('manage', 'all', inProject);
      return;
  }
}

import { Injectable } from '@nestjs/common';
import { AlreadyExistsError, AuditRecorder, type Caller, checkLength, checkNoControlCharacters, checkNoNul, checkRequired, checkUpdateMask, FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError, PROJECT_ROLES, type ProjectRole, resourceName } from '@trellis/platform';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { AccessRevocationPublisher } from './access-revocation.publisher';
import type { PrincipalEntity, ProjectEntity, RoleBindingEntity } from './identity.entity';
import { principalNotFound, projectNotFound } from './identity-errors';
import { IdentityRepository, type Page } from './identity.repository';

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** The fields UpdateProject may change, named in its update_mask. */
const PROJECT_UPDATABLE = ['description', 'encrypt_at_rest'] as const;

/** Projects, principals and role bindings, with the rules of who may change them. */
@Injectable()
export class IdentityService {
  constructor(
    private readonly repository: IdentityRepository,
    private readonly audit: AuditRecorder,
    private readonly revocations: AccessRevocationPublisher,
  ) {}

  async createProject(caller: Caller, input: { name: string; description: string; encryptAtRest: boolean }): Promise<ProjectEntity> {
    const orgId = this.orgOf(caller);
    caller.assert('create', 'Project', { projectId: '', orgId });
    checkName(input.name, 'name');
    checkDescription(input.description);
    return this.repository.transaction(async (tx) => {
      if (await this.repository.projectNamed(tx, orgId, input.name)) {
        throw new AlreadyExistsError(`project ${input.name} already exists`, { reason: 'PROJECT_NAME_TAKEN' });
      }
      const project = await this.repository.insertProject(tx, { id: randomUUID(), orgId, ...input, createdAt: Date.now() });
      await this.repository.insertRoleBinding(tx, { projectId: project.id, principalId: caller.authenticated.id, role: 'owner' });
      await this.audit.recordIn(tx, caller, { id: project.id, projectId: project.id });
      return project;
    });
  }

  async getProject(caller: Caller, projectId: string): Promise<ProjectEntity> {
    const project = await this.repository.findProject(projectId);
    if (!project || !caller.can('read', 'Project', { projectId, orgId: project.orgId })) {
      throw projectNotFound(projectId);
    }
    caller.assert('read', 'Project', { projectId, orgId: project.orgId, id: projectId });
    return project;
  }

  async listProjects(caller: Caller, page: Page): Promise<ProjectEntity[]> {
    const orgId = this.orgOf(caller);
    const visible = caller.projectsWhere('read', 'Project');
    return this.repository.listProjects(orgId, visible, page);
  }

  /** Changes the fields named in the mask and nothing else. */
  async updateProject(caller: Caller, input: { projectId: string; description: string; encryptAtRest: boolean; updateMask: string[] }): Promise<ProjectEntity> {
    checkRequired(input.projectId, 'project.id');
    const mask = checkUpdateMask(input.updateMask, PROJECT_UPDATABLE);
    const changes: Partial<Pick<ProjectEntity, 'description' | 'encryptAtRest'>> = {};
    if (mask.has('description')) {
      checkDescription(input.description);
      changes.description = input.description;
    }
    if (mask.has('encrypt_at_rest')) changes.encryptAtRest = input.encryptAtRest;
    const project = await this.getProject(caller, input.projectId);
    caller.assert('update', 'Project', { projectId: project.id, orgId: project.orgId, id: project.id });
    Object.assign(project, changes);
    await this.repository.transaction(async (tx) => {
      await this.repository.updateProject(tx, project.id, changes);
      await this.audit.recordIn(tx, caller);
    });
    return project;
  }

  async createPrincipal(
    caller: Caller,
    input: { kind: 'user' | 'service_account'; name: string; displayName: string; orgAdmin: boolean },
  ): Promise<PrincipalEntity> {
    const orgId = this.orgOf(caller);
    caller.assert('create', 'Principal', { projectId: '', orgId });
    checkName(input.name, 'name');
    checkLength(input.displayName, 200, 'display_name');
    checkNoControlCharacters(input.displayName, 'display_name');
    return this.repository.transaction(async (tx) => {
      if (await this.repository.principalNamed(tx, orgId, input.name)) {
        throw new AlreadyExistsError(`a user or service account named ${input.name} already exists`, { reason: 'PRINCIPAL_NAME_TAKEN' });
      }
      const principal = await this.repository.insertPrincipal(tx, { id: randomUUID(), orgId, ...input, createdAt: Date.now() });
      await this.audit.recordIn(tx, caller, { id: principal.id });
      return principal;
    });
  }

  async listPrincipals(caller: Caller, page: Page): Promise<PrincipalEntity[]> {
    const orgId = this.orgOf(caller);
    caller.assert('read', 'Principal', { projectId: '', orgId });
    return this.repository.listPrincipals(orgId, page);
  }

  async setRoleBinding(caller: Caller, binding: { projectId: string; principalId: string; role: ProjectRole }): Promise<RoleBindingEntity> {
    const project = await this.getProject(caller, binding.projectId);
    caller.assert('create', 'Member', { projectId: project.id, orgId: project.orgId, id: binding.principalId });
    this.assertOutranks(caller, project, binding.role, 'grant');
    return this.repository.transaction(async (tx) => {
      const principal = await this.repository.findPrincipal({ id: binding.principalId, orgId: project.orgId }, tx);
      if (!principal) throw principalNotFound(binding.principalId);
      const current = await this.repository.findRoleBinding(tx, project.id, principal.id);
      if (current) this.assertOutranks(caller, project, current.role, 'change the role of');
      if (current?.role === 'owner' && binding.role !== 'owner') await this.assertAnotherOwner(tx, project.id, principal.id);
      const stored = await this.repository.upsertRoleBinding(tx, binding);
      if (current && PROJECT_ROLES.indexOf(binding.role) < PROJECT_ROLES.indexOf(current.role)) {
        await this.revocations.rolesReduced(tx, caller, principal.id, project.id);
      }
      await this.audit.recordIn(tx, caller);
      return stored;
    });
  }

  async deleteRoleBinding(caller: Caller, projectId: string, principalId: string): Promise<void> {
    const project = await this.getProject(caller, projectId);
    caller.assert('delete', 'Member', { projectId, orgId: project.orgId, id: principalId });
    await this.repository.transaction(async (tx) => {
      const current = await this.repository.findRoleBinding(tx, projectId, principalId);
      if (!current) {
        throw new NotFoundError(`${principalId} is not a member of project ${projectId}`, { reason: 'ROLE_BINDING_NOT_FOUND', resource: resourceName(['projects', projectId], ['members', principalId]) });
      }
      this.assertOutranks(caller, project, current.role, 'remove');
      if (current.role === 'owner') await this.assertAnotherOwner(tx, projectId, principalId);
      await this.repository.deleteRoleBinding(tx, projectId, principalId);
      await this.revocations.rolesReduced(tx, caller, principalId, projectId);
      await this.audit.recordIn(tx, caller);
    });
  }

  async listRoleBindings(caller: Caller, projectId: string, page: Page): Promise<RoleBindingEntity[]> {
    const project = await this.getProject(caller, projectId);
    caller.assert('read', 'Member', { projectId, orgId: project.orgId });
    return this.repository.listRoleBindings(projectId, page);
  }

  /**
   * A principal's bindings as its token carries them: an org admin owns every project of its org;
   * a platform service's own account (the registry's) is a viewer of every project of its org,
   * the least role that reads a run's files for any user who asked, or has a stronger role bound.
   */
  async bindingsOf(principal: PrincipalEntity): Promise<Array<{ projectId: string; role: ProjectRole }>> {
    if (principal.orgAdmin) {
      const projectIds = await this.repository.projectIdsOfOrg(principal.orgId);
      return projectIds.map((projectId) => ({ projectId, role: 'owner' as const }));
    }
    const bindings = await this.repository.roleBindingsOf(principal.id);
    if (principal.service) {
      const bound = new Map(bindings.map(({ projectId, role }) => [projectId, role]));
      const projectIds = await this.repository.projectIdsOfOrg(principal.orgId);
      return projectIds.map((projectId) => ({ projectId, role: bound.get(projectId) ?? ('viewer' as const) }));
    }
    return bindings.map(({ projectId, role }) => ({ projectId, role }));
  }

  /** Creates the default org, project and admin on first start; returns the admin, or undefined if an org exists. */
  async bootstrap(tx: EntityManager): Promise<PrincipalEntity | undefined> {
    if (await this.repository.anyOrg(tx)) return undefined;
    const now = Date.now();
    const org = await this.repository.insertOrg(tx, { id: randomUUID(), name: 'default', createdAt: now });
    const project = await this.repository.insertProject(tx, { id: randomUUID(), orgId: org.id, name: 'default', description: 'Created at first start.', encryptAtRest: false, createdAt: now });
    const admin = await this.repository.insertPrincipal(tx, { id: randomUUID(), orgId: org.id, kind: 'user', name: 'admin', displayName: 'Administrator', orgAdmin: true, createdAt: now });
    await this.repository.insertRoleBinding(tx, { projectId: project.id, principalId: admin.id, role: 'owner' });
    return admin;
  }

  private orgOf(caller: Caller): string {
    return caller.authenticated.orgId;
  }

  /**
   * Nobody acts on a role above their own: an admin neither grants owner nor demotes or removes
   * an owner. Org admins of the project's org may do anything.
   */
  private assertOutranks(caller: Caller, project: ProjectEntity, role: ProjectRole, act: string): void {
    if (caller.principal?.orgAdmin && caller.principal.orgId === project.orgId) return;
    const held = caller.principal?.bindings.find((binding) => binding.projectId === project.id)?.role;
    if (!held || PROJECT_ROLES.indexOf(role) > PROJECT_ROLES.indexOf(held)) {
      throw new PermissionDeniedError(`${caller.principal?.id} may not ${act} ${role}, a role above their own (${held ?? 'none'})`, { reason: 'ROLE_ABOVE_CALLER', resource: resourceName(['projects', project.id]) });
    }
  }

  private async assertAnotherOwner(tx: EntityManager, projectId: string, leaving: string): Promise<void> {
    if ((await this.repository.countOwnersForUpdate(tx, projectId)) <= 1) {
      throw new FailedPreconditionError(`${leaving} is the last owner of project ${projectId}; make someone else owner first`, { reason: 'LAST_OWNER', resource: resourceName(['projects', projectId]) });
    }
  }
}

function checkName(value: string, field: string): void {
  if (!NAME.test(value)) throw new InvalidArgumentError('must be 1 to 63 lowercase letters, digits or dashes, not starting or ending with a dash', field);
}

/** A project's description: at most 2000 characters, line breaks allowed, no NUL. */
function checkDescription(description: string): void {
  checkLength(description, 2000, 'description');
  checkNoNul(description, 'description');
}

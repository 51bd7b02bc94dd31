import { Injectable } from '@nestjs/common';
import { AlreadyExistsError, AuditRecorder, type Caller, checkLength, checkNoControlCharacters, checkNoNul, checkUpdateMask, FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError, PROJECT_ROLES, type ProjectRole } from '@trellis/platform';
import { randomUUID } from 'node:crypto';
import { DataSource, In, MoreThan, type EntityManager } from 'typeorm';
import { AccessRevocations } from './access-revocations';
import { OrgEntity, PrincipalEntity, ProjectEntity, RoleBindingEntity } from './identity.entities';

/** Which rows of a list to read: at most `size`, sorted after `after`. */
interface Page {
  size: number;
  after?: string;
}

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** The fields UpdateProject may change, named in its update_mask. */
const PROJECT_UPDATABLE = ['description', 'encrypt_at_rest'] as const;

/** Projects, principals and role bindings, with the rules of who may change them. */
@Injectable()
export class IdentityService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditRecorder,
    private readonly revocations: AccessRevocations,
  ) {}

  async createProject(caller: Caller, input: { name: string; description: string; encryptAtRest: boolean }): Promise<ProjectEntity> {
    const orgId = this.orgOf(caller);
    caller.assert('create', 'Project', { projectId: '', orgId });
    checkName(input.name, 'name');
    checkDescription(input.description);
    return this.dataSource.transaction(async (manager) => {
      if (await manager.existsBy(ProjectEntity, { orgId, name: input.name })) {
        throw new AlreadyExistsError(`project ${input.name} already exists`);
      }
      const project = manager.create(ProjectEntity, { id: randomUUID(), orgId, ...input, createdAt: Date.now() });
      await manager.insert(ProjectEntity, project);
      await manager.insert(RoleBindingEntity, { projectId: project.id, principalId: caller.authenticated.id, role: 'owner' });
      await this.audit.recordIn(manager, caller, { id: project.id, projectId: project.id });
      return project;
    });
  }

  async getProject(caller: Caller, projectId: string): Promise<ProjectEntity> {
    const project = await this.dataSource.getRepository(ProjectEntity).findOneBy({ id: projectId });
    if (!project || !caller.can('read', 'Project', { projectId, orgId: project.orgId })) {
      throw new NotFoundError(`project ${projectId} not found`);
    }
    caller.assert('read', 'Project', { projectId, orgId: project.orgId, id: projectId });
    return project;
  }

  async listProjects(caller: Caller, page: Page): Promise<ProjectEntity[]> {
    const orgId = this.orgOf(caller);
    const visible = caller.projectsWhere('read', 'Project');
    return this.dataSource.getRepository(ProjectEntity).find({
      where: { orgId, ...(visible === 'all' ? {} : { id: In(visible) }), ...(page.after ? { name: MoreThan(page.after) } : {}) },
      order: { name: 'ASC' },
      take: page.size,
    });
  }

  /** Changes the fields named in the mask and nothing else. */
  async updateProject(caller: Caller, input: { projectId: string; description: string; encryptAtRest: boolean; updateMask: string[] }): Promise<ProjectEntity> {
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
    await this.dataSource.transaction(async (manager) => {
      await manager.update(ProjectEntity, { id: project.id }, changes);
      await this.audit.recordIn(manager, caller);
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
    return this.dataSource.transaction(async (manager) => {
      if (await manager.existsBy(PrincipalEntity, { orgId, name: input.name })) {
        throw new AlreadyExistsError(`a user or service account named ${input.name} already exists`);
      }
      const principal = manager.create(PrincipalEntity, { id: randomUUID(), orgId, ...input, createdAt: Date.now() });
      await manager.insert(PrincipalEntity, principal);
      await this.audit.recordIn(manager, caller, { id: principal.id });
      return principal;
    });
  }

  async listPrincipals(caller: Caller, page: Page): Promise<PrincipalEntity[]> {
    const orgId = this.orgOf(caller);
    caller.assert('read', 'Principal', { projectId: '', orgId });
    return this.dataSource.getRepository(PrincipalEntity).find({
      where: { orgId, ...(page.after ? { name: MoreThan(page.after) } : {}) },
      order: { name: 'ASC' },
      take: page.size,
    });
  }

  async setRoleBinding(caller: Caller, binding: { projectId: string; principalId: string; role: ProjectRole }): Promise<RoleBindingEntity> {
    const project = await this.getProject(caller, binding.projectId);
    caller.assert('create', 'Member', { projectId: project.id, orgId: project.orgId, id: binding.principalId });
    this.assertOutranks(caller, project, binding.role, 'grant');
    return this.dataSource.transaction(async (manager) => {
      const principal = await manager.findOneBy(PrincipalEntity, { id: binding.principalId, orgId: project.orgId });
      if (!principal) throw new NotFoundError(`user or service account ${binding.principalId} not found`);
      const current = await manager.findOneBy(RoleBindingEntity, { projectId: project.id, principalId: principal.id });
      if (current) this.assertOutranks(caller, project, current.role, 'change the role of');
      if (current?.role === 'owner' && binding.role !== 'owner') await this.assertAnotherOwner(manager, project.id, principal.id);
      await manager.upsert(RoleBindingEntity, binding, ['projectId', 'principalId']);
      if (current && PROJECT_ROLES.indexOf(binding.role) < PROJECT_ROLES.indexOf(current.role)) {
        await this.revocations.rolesReduced(manager, caller, principal.id, project.id);
      }
      await this.audit.recordIn(manager, caller);
      return manager.create(RoleBindingEntity, binding);
    });
  }

  async deleteRoleBinding(caller: Caller, projectId: string, principalId: string): Promise<void> {
    const project = await this.getProject(caller, projectId);
    caller.assert('delete', 'Member', { projectId, orgId: project.orgId, id: principalId });
    await this.dataSource.transaction(async (manager) => {
      const current = await manager.findOneBy(RoleBindingEntity, { projectId, principalId });
      if (!current) throw new NotFoundError(`${principalId} is not a member of project ${projectId}`);
      this.assertOutranks(caller, project, current.role, 'remove');
      if (current.role === 'owner') await this.assertAnotherOwner(manager, projectId, principalId);
      await manager.delete(RoleBindingEntity, { projectId, principalId });
      await this.revocations.rolesReduced(manager, caller, principalId, projectId);
      await this.audit.recordIn(manager, caller);
    });
  }

  async listRoleBindings(caller: Caller, projectId: string): Promise<RoleBindingEntity[]> {
    const project = await this.getProject(caller, projectId);
    caller.assert('read', 'Member', { projectId, orgId: project.orgId });
    return this.dataSource.getRepository(RoleBindingEntity).find({ where: { projectId }, order: { principalId: 'ASC' } });
  }

  /** A principal's bindings as its token carries them: an org admin owns every project of its org. */
  async bindingsOf(principal: PrincipalEntity): Promise<Array<{ projectId: string; role: ProjectRole }>> {
    if (principal.orgAdmin) {
      const projects = await this.dataSource.getRepository(ProjectEntity).find({ where: { orgId: principal.orgId }, select: { id: true } });
      return projects.map((project) => ({ projectId: project.id, role: 'owner' as const }));
    }
    const bindings = await this.dataSource.getRepository(RoleBindingEntity).findBy({ principalId: principal.id });
    return bindings.map(({ projectId, role }) => ({ projectId, role }));
  }

  /** Creates the default org, project and admin on first start; returns the admin, or undefined if an org exists. */
  async bootstrap(manager: EntityManager): Promise<PrincipalEntity | undefined> {
    if ((await manager.count(OrgEntity)) > 0) return undefined;
    const now = Date.now();
    const org = manager.create(OrgEntity, { id: randomUUID(), name: 'default', createdAt: now });
    const project = manager.create(ProjectEntity, { id: randomUUID(), orgId: org.id, name: 'default', description: 'Created at first start.', encryptAtRest: false, createdAt: now });
    const admin = manager.create(PrincipalEntity, { id: randomUUID(), orgId: org.id, kind: 'user', name: 'admin', displayName: 'Administrator', orgAdmin: true, createdAt: now });
    await manager.insert(OrgEntity, org);
    await manager.insert(ProjectEntity, project);
    await manager.insert(PrincipalEntity, admin);
    await manager.insert(RoleBindingEntity, { projectId: project.id, principalId: admin.id, role: 'owner' });
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
      throw new PermissionDeniedError(`${caller.principal?.id} may not ${act} ${role}, a role above their own (${held ?? 'none'})`);
    }
  }

  private async assertAnotherOwner(manager: EntityManager, projectId: string, leaving: string): Promise<void> {
    // Lock the owners on PostgreSQL, so two owners leaving at once cannot both see the other stay.
    const lock = manager.connection.options.type === 'postgres' ? { lock: { mode: 'pessimistic_write' as const } } : {};
    const owners = (await manager.find(RoleBindingEntity, { where: { projectId, role: 'owner' }, ...lock })).length;
    if (owners <= 1) {
      throw new FailedPreconditionError(`${leaving} is the last owner of project ${projectId}; make someone else owner first`);
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

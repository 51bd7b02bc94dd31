import { Injectable } from '@nestjs/common';
import { Dialect } from '@trellis/platform';
import { DataSource, In, MoreThan, type EntityManager } from 'typeorm';
import { OrgEntity, PrincipalEntity, ProjectEntity, RoleBindingEntity } from './identity.entity';

/** Which rows of a list to read: at most `size`, sorted after `after`. */
export interface Page {
  size: number;
  after?: string;
}

/** Reads and writes orgs, projects, principals and role bindings; the only code of governance that knows their tables. */
@Injectable()
export class IdentityRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` in one transaction; pass its manager to the writes, the audit and the outbox. */
  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  projectNamed(tx: EntityManager, orgId: string, name: string): Promise<boolean> {
    return tx.existsBy(ProjectEntity, { orgId, name });
  }

  /** Stores a new project and returns it. */
  async insertProject(tx: EntityManager, project: ProjectEntity): Promise<ProjectEntity> {
    const created = tx.create(ProjectEntity, project);
    await tx.insert(ProjectEntity, created);
    return created;
  }

  findProject(projectId: string): Promise<ProjectEntity | null> {
    return this.dataSource.getRepository(ProjectEntity).findOneBy({ id: projectId });
  }

  /** The projects among `projectIds` that exist, in no particular order. */
  findProjects(projectIds: string[]): Promise<ProjectEntity[]> {
    return this.dataSource.getRepository(ProjectEntity).findBy({ id: In(projectIds) });
  }

  /** A page of the org's projects by name, only those in `visible` unless it is `'all'`. */
  listProjects(orgId: string, visible: readonly string[] | 'all', page: Page): Promise<ProjectEntity[]> {
    return this.dataSource.getRepository(ProjectEntity).find({
      where: { orgId, ...(visible === 'all' ? {} : { id: In([...visible]) }), ...(page.after ? { name: MoreThan(page.after) } : {}) },
      order: { name: 'ASC' },
      take: page.size,
    });
  }

  async updateProject(tx: EntityManager, projectId: string, changes: Partial<Pick<ProjectEntity, 'description' | 'encryptAtRest'>>): Promise<void> {
    await tx.update(ProjectEntity, { id: projectId }, changes);
  }

  /** The ids of every project of the org. */
  async projectIdsOfOrg(orgId: string): Promise<string[]> {
    const projects = await this.dataSource.getRepository(ProjectEntity).find({ where: { orgId }, select: { id: true } });
    return projects.map((project) => project.id);
  }

  principalNamed(tx: EntityManager, orgId: string, name: string): Promise<boolean> {
    return tx.existsBy(PrincipalEntity, { orgId, name });
  }

  /** Stores a new principal and returns it. */
  async insertPrincipal(tx: EntityManager, principal: Omit<PrincipalEntity, 'accessVersion'>): Promise<PrincipalEntity> {
    const created = tx.create(PrincipalEntity, principal);
    await tx.insert(PrincipalEntity, created);
    return created;
  }

  /** The principal with this id, in `orgId` when given; read in `tx` when given. */
  findPrincipal(where: { id: string; orgId?: string }, tx?: EntityManager): Promise<PrincipalEntity | null> {
    return (tx ?? this.dataSource.manager).findOneBy(PrincipalEntity, where);
  }

  /** A page of the org's principals by name. */
  listPrincipals(orgId: string, page: Page): Promise<PrincipalEntity[]> {
    return this.dataSource.getRepository(PrincipalEntity).find({
      where: { orgId, ...(page.after ? { name: MoreThan(page.after) } : {}) },
      order: { name: 'ASC' },
      take: page.size,
    });
  }

  /** The principals whose access version was ever raised, with that version. */
  principalsWithRaisedAccess(): Promise<Array<Pick<PrincipalEntity, 'id' | 'accessVersion'>>> {
    return this.dataSource.getRepository(PrincipalEntity).find({ where: { accessVersion: MoreThan(0) }, select: { id: true, accessVersion: true } });
  }

  /** Raises the principal's access version by one, atomically (two raises at once both count), and returns the new version. */
  async raiseAccessVersion(tx: EntityManager, principalId: string): Promise<number> {
    await tx.increment(PrincipalEntity, { id: principalId }, 'accessVersion', 1);
    const { accessVersion } = await tx.findOneByOrFail(PrincipalEntity, { id: principalId });
    return accessVersion;
  }

  findRoleBinding(tx: EntityManager, projectId: string, principalId: string): Promise<RoleBindingEntity | null> {
    return tx.findOneBy(RoleBindingEntity, { projectId, principalId });
  }

  /** Stores the binding, replacing the principal's role in the project if it had one; returns it. */
  async upsertRoleBinding(tx: EntityManager, binding: RoleBindingEntity): Promise<RoleBindingEntity> {
    await tx.upsert(RoleBindingEntity, binding, ['projectId', 'principalId']);
    return tx.create(RoleBindingEntity, binding);
  }

  async insertRoleBinding(tx: EntityManager, binding: RoleBindingEntity): Promise<void> {
    await tx.insert(RoleBindingEntity, binding);
  }

  async deleteRoleBinding(tx: EntityManager, projectId: string, principalId: string): Promise<void> {
    await tx.delete(RoleBindingEntity, { projectId, principalId });
  }

  /** A page of the project's bindings by principal id. */
  listRoleBindings(projectId: string, page: Page): Promise<RoleBindingEntity[]> {
    return this.dataSource.getRepository(RoleBindingEntity).find({
      where: { projectId, ...(page.after ? { principalId: MoreThan(page.after) } : {}) },
      order: { principalId: 'ASC' },
      take: page.size,
    });
  }

  /** The principal's bindings, in no particular order. */
  roleBindingsOf(principalId: string): Promise<RoleBindingEntity[]> {
    return this.dataSource.getRepository(RoleBindingEntity).findBy({ principalId });
  }

  /**
   * How many owners the project has, their rows locked until `tx` ends on PostgreSQL, so two
   * owners leaving at once cannot both see the other stay.
   */
  async countOwnersForUpdate(tx: EntityManager, projectId: string): Promise<number> {
    const owners = await tx.find(RoleBindingEntity, { where: { projectId, role: 'owner' }, ...Dialect.of(tx).lockForUpdate<RoleBindingEntity>() });
    return owners.length;
  }

  /** Whether any org exists yet. */
  async anyOrg(tx: EntityManager): Promise<boolean> {
    return (await tx.count(OrgEntity)) > 0;
  }

  /** Stores a new org and returns it. */
  async insertOrg(tx: EntityManager, org: OrgEntity): Promise<OrgEntity> {
    const created = tx.create(OrgEntity, org);
    await tx.insert(OrgEntity, created);
    return created;
  }

  /**
   * The admin user created at first start, in the first org; undefined if gone. Its row is locked
   * until `tx` ends on PostgreSQL, so two replicas starting at once do not both issue a first key.
   */
  /** The first org (the `default` one first start made), or undefined before first start. */
  async firstOrg(tx: EntityManager): Promise<OrgEntity | undefined> {
    const [org] = await tx.find(OrgEntity, { order: { createdAt: 'ASC' }, take: 1 });
    return org;
  }

  /** The service account of platform service `service` in the org, locked until the transaction ends. */
  async serviceAccountForUpdate(tx: EntityManager, orgId: string, service: string): Promise<PrincipalEntity | undefined> {
    return (await tx.findOne(PrincipalEntity, { where: { orgId, service }, ...Dialect.of(tx).lockForUpdate<PrincipalEntity>() })) ?? undefined;
  }

  async firstAdminForUpdate(tx: EntityManager): Promise<PrincipalEntity | undefined> {
    const [org] = await tx.find(OrgEntity, { order: { createdAt: 'ASC' }, take: 1 });
    if (!org) return undefined;
    return (await tx.findOne(PrincipalEntity, { where: { orgId: org.id, kind: 'user', name: 'admin' }, ...Dialect.of(tx).lockForUpdate<PrincipalEntity>() })) ?? undefined;
  }
}

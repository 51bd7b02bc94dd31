import { epochMillis } from '@trellis/platform';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An organization: the top of the tenancy tree. */
@Entity('orgs')
export class OrgEntity {
  @PrimaryColumn('varchar', { length: 36 }) id!: string;
  @Column('varchar', { length: 63 }) name!: string;
  @Column('bigint', { name: 'created_at', transformer: epochMillis }) createdAt!: number;
}

/** A project; every resource of Trellis belongs to one. */
@Entity('projects')
export class ProjectEntity {
  @PrimaryColumn('varchar', { length: 36 }) id!: string;
  @Column('varchar', { name: 'org_id', length: 36 }) orgId!: string;
  @Column('varchar', { length: 63 }) name!: string;
  @Column('text') description!: string;
  @Column('boolean', { name: 'encrypt_at_rest' }) encryptAtRest!: boolean;
  @Column('bigint', { name: 'created_at', transformer: epochMillis }) createdAt!: number;
}

/** A user or a service account. */
@Entity('principals')
export class PrincipalEntity {
  @PrimaryColumn('varchar', { length: 36 }) id!: string;
  @Column('varchar', { name: 'org_id', length: 36 }) orgId!: string;
  @Column('varchar', { length: 20 }) kind!: 'user' | 'service_account';
  @Column('varchar', { length: 63 }) name!: string;
  @Column('varchar', { name: 'display_name', length: 200 }) displayName!: string;
  @Column('boolean', { name: 'org_admin' }) orgAdmin!: boolean;
  @Column('bigint', { name: 'created_at', transformer: epochMillis }) createdAt!: number;
  /** Raised each time one of its roles is reduced: tokens issued at an older version are refused. */
  @Column('integer', { name: 'access_version', default: 0 }) accessVersion!: number;
  /** The platform service this service account is the identity of (`registry`), set only by governance itself; null for others. */
  @Column('varchar', { length: 30, nullable: true }) service?: string | null;
}

/** A principal's role in a project. */
@Entity('role_bindings')
export class RoleBindingEntity {
  @PrimaryColumn('varchar', { name: 'project_id', length: 36 }) projectId!: string;
  @PrimaryColumn('varchar', { name: 'principal_id', length: 36 }) principalId!: string;
  @Column('varchar', { length: 10 }) role!: 'viewer' | 'editor' | 'admin' | 'owner';
}

import { AddPrincipalAccessVersion1767450000000 } from './add-principal-access-version.migration';
import { CreateIdentityTables1767100000000 } from './create-identity-tables.migration';
import { OrgEntity, PrincipalEntity, ProjectEntity, RoleBindingEntity } from './identity.entities';

export const IDENTITY_ENTITIES = [OrgEntity, ProjectEntity, PrincipalEntity, RoleBindingEntity];
export const IDENTITY_MIGRATIONS = [CreateIdentityTables1767100000000, AddPrincipalAccessVersion1767450000000];

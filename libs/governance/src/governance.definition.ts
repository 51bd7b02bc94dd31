import { ApprovalServiceDesc, AuditServiceDesc, IdentityServiceDesc, TokenServiceDesc } from '@trellis/proto';
import { defineService } from '@trellis/platform';
import { ApprovalEntity } from './approvals/approval.entity';
import { AuditCheckpointer } from './audit/audit-checkpointer';
import { AuditChainHeadEntity, AuditCheckpointEntity, AuditRecordEntity } from './audit/audit.entity';
import { governanceConfig } from './governance.config';
import { GOVERNANCE_KMS_DEFAULTS } from './kms-instances';
import { GovernanceModule } from './governance.module';
import { OrgEntity, PrincipalEntity, ProjectEntity, RoleBindingEntity } from './identity/identity.entity';
import { CreateIdentityTables1767100000000 } from './migrations/1767100000000-create-identity-tables';
import { CreateTokenTables1767200000000 } from './migrations/1767200000000-create-token-tables';
import { CreateAuditRecords1767300000000 } from './migrations/1767300000000-create-audit-records';
import { CreateApprovals1767400000000 } from './migrations/1767400000000-create-approvals';
import { AddPrincipalAccessVersion1767450000000 } from './migrations/1767450000000-add-principal-access-version';
import { CreateAuditCheckpoints1767460000000 } from './migrations/1767460000000-create-audit-checkpoints';
import { AddAuditOnBehalfOf1767480000000 } from './migrations/1767480000000-add-audit-on-behalf-of';
import { AddPrincipalService1767490000000 } from './migrations/1767490000000-add-principal-service';
import { WrapSigningKeys1767475000000 } from './migrations/1767475000000-wrap-signing-keys';
import { ApiKeyEntity, SigningKeyEntity } from './tokens/token.entity';

/** Governance: identity, API keys and tokens, the audit chain, approvals. */
export const governanceService = defineService({
  name: 'governance',
  description: 'Identity, API keys and tokens, the audit chain and approvals',
  defaultPort: 50051,
  config: governanceConfig,
  module: GovernanceModule,
  grpcServices: [IdentityServiceDesc, TokenServiceDesc, AuditServiceDesc, ApprovalServiceDesc],
  workers: [AuditCheckpointer],
  plugins: {
    kms: {
      purpose: 'signs audit checkpoints and wraps token signing keys; without one checkpoints are off and keys are kept in the clear',
      optional: true,
      defaults: GOVERNANCE_KMS_DEFAULTS,
    },
  },
  entities: [
    OrgEntity,
    ProjectEntity,
    PrincipalEntity,
    RoleBindingEntity,
    ApiKeyEntity,
    SigningKeyEntity,
    AuditRecordEntity,
    AuditChainHeadEntity,
    AuditCheckpointEntity,
    ApprovalEntity,
  ],
  // TypeORM runs them by timestamp and records each by class name in existing databases: never rename one.
  migrations: [
    CreateIdentityTables1767100000000,
    AddPrincipalAccessVersion1767450000000,
    CreateTokenTables1767200000000,
    CreateAuditRecords1767300000000,
    CreateAuditCheckpoints1767460000000,
    AddAuditOnBehalfOf1767480000000,
    AddPrincipalService1767490000000,
    WrapSigningKeys1767475000000,
    CreateApprovals1767400000000,
  ],
});

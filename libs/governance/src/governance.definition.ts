import { ApprovalServiceDesc, AuditServiceDesc, IdentityServiceDesc, TokenServiceDesc } from '@trellis/proto';
import { defineService } from '@trellis/platform';
import { APPROVAL_ENTITIES, APPROVAL_MIGRATIONS } from './approvals';
import { AUDIT_ENTITIES, AUDIT_MIGRATIONS } from './audit';
import { GovernanceModule } from './governance.module';
import { IDENTITY_ENTITIES, IDENTITY_MIGRATIONS } from './identity';
import { TOKEN_ENTITIES, TOKEN_MIGRATIONS } from './tokens';

/** Governance: identity, API keys and tokens, the audit chain, approvals. */
export const governanceService = defineService({
  name: 'governance',
  defaultPort: 50051,
  module: GovernanceModule,
  grpcServices: [IdentityServiceDesc, TokenServiceDesc, AuditServiceDesc, ApprovalServiceDesc],
  entities: [...IDENTITY_ENTITIES, ...TOKEN_ENTITIES, ...AUDIT_ENTITIES, ...APPROVAL_ENTITIES],
  migrations: [...IDENTITY_MIGRATIONS, ...TOKEN_MIGRATIONS, ...AUDIT_MIGRATIONS, ...APPROVAL_MIGRATIONS],
});

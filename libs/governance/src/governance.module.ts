import { Module } from '@nestjs/common';
import { ApprovalsModule } from './approvals/approvals.module';
import { AuditModule } from './audit/audit.module';
import { IdentityModule } from './identity/identity.module';
import { TokensModule } from './tokens/tokens.module';

/** Wires governance's feature modules; nothing else. */
@Module({ imports: [IdentityModule, TokensModule, AuditModule, ApprovalsModule] })
export class GovernanceModule {}

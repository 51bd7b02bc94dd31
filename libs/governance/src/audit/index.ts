import { AuditCheckpointEntity } from './audit-checkpoint.entity';
import { AuditChainHeadEntity, AuditRecordEntity } from './audit-record.entity';
import { CreateAuditRecords1767300000000 } from './migrations/1767300000000-create-audit-records';
import { CreateAuditCheckpoints1767460000000 } from './migrations/1767460000000-create-audit-checkpoints';

/** Entities of the audit chain, for governance's DataSource. */
export const AUDIT_ENTITIES = [AuditRecordEntity, AuditChainHeadEntity, AuditCheckpointEntity];
/** Migrations of the audit chain, in order. */
export const AUDIT_MIGRATIONS = [CreateAuditRecords1767300000000, CreateAuditCheckpoints1767460000000];

export { AuditChain, type AppendedRecord } from './audit-chain';
export type { AuditEventInput } from './audit-fields';

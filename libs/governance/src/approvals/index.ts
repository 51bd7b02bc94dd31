import { ApprovalEntity } from './approval.entity';
import { CreateApprovals1767400000000 } from './create-approvals.migration';

/** Entities of the approvals feature, for governance's DataSource. */
export const APPROVAL_ENTITIES = [ApprovalEntity];

/** Migrations of the approvals feature, in order. */
export const APPROVAL_MIGRATIONS = [CreateApprovals1767400000000];

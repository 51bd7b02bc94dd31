import type { ListApprovalsResponseJson, RequestApprovalResponseJson } from '@trellis/proto/trellis/governance/v1/approval_service_pb';
import type { ApprovalJson } from '@trellis/proto/trellis/governance/v1/resources_pb';
import type { GatewayClient } from '@trellis/client';

/** What governance must approve before a protected alias moves (or goes): the registry's own terms. */
export interface AliasApprovalWanted {
  action: 'registry.alias.set' | 'registry.alias.delete';
  resource: string;
  details: Record<string, string>;
}

/** The approval the registry asks for to point `alias` at `version`, or to delete it when `version` is undefined. */
export function aliasApprovalWanted(projectId: string, model: string, alias: string, version?: number): AliasApprovalWanted {
  return {
    action: version === undefined ? 'registry.alias.delete' : 'registry.alias.set',
    resource: `projects/${projectId}/models/${model}/aliases/${alias}`,
    details: version === undefined ? {} : { version: String(version) },
  };
}

/**
 * A pending approval request for exactly this change, or a new one: running the same command
 * again while the request waits does not pile up requests for the deciders.
 */
export async function pendingApprovalFor(client: GatewayClient, projectId: string, wanted: AliasApprovalWanted): Promise<ApprovalJson> {
  const { approvals = [] } = await client.call<ListApprovalsResponseJson>('trellis.governance.v1.ApprovalService/ListApprovals', {
    projectId,
    state: 'APPROVAL_STATE_PENDING',
    pageSize: 1000,
  });
  const same = approvals.find(
    (approval) => approval.action === wanted.action && approval.resource === wanted.resource && (approval.details?.version ?? '') === (wanted.details.version ?? ''),
  );
  if (same) return same;
  const { approval = {} } = await client.call<RequestApprovalResponseJson>('trellis.governance.v1.ApprovalService/RequestApproval', { projectId, ...wanted });
  return approval;
}

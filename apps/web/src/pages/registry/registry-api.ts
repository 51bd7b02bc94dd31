import type { GatewayClient } from '@trellis/client';
import type { ListApprovalsResponseJson, RequestApprovalResponseJson } from '@trellis/proto/trellis/governance/v1/approval_service_pb';
import type { ApprovalJson } from '@trellis/proto/trellis/governance/v1/resources_pb';
import type { AliasChangeJson, ModelVersionJson } from '@trellis/proto/trellis/registry/v1/resources_pb';

/** The registry's RPCs the area calls, by name. */
export const REGISTRY = {
  searchModels: 'trellis.registry.v1.RegistryService/SearchModels',
  getModel: 'trellis.registry.v1.RegistryService/GetModel',
  searchVersions: 'trellis.registry.v1.RegistryService/SearchVersions',
  getVersion: 'trellis.registry.v1.RegistryService/GetVersion',
  getVersionLineage: 'trellis.registry.v1.RegistryService/GetVersionLineage',
  listAliasHistory: 'trellis.registry.v1.RegistryService/ListAliasHistory',
  setAlias: 'trellis.registry.v1.RegistryService/SetAlias',
} as const;

/** Governance's approvals, which protected aliases need. */
export const APPROVALS = {
  list: 'trellis.governance.v1.ApprovalService/ListApprovals',
  request: 'trellis.governance.v1.ApprovalService/RequestApproval',
  approve: 'trellis.governance.v1.ApprovalService/Approve',
  reject: 'trellis.governance.v1.ApprovalService/Reject',
} as const;

/** The page of a model, relative to the project's pages. */
export function modelPath(projectId: string, model: string): string {
  return `/ui/p/${projectId}/models/${encodeURIComponent(model)}`;
}

/** The page of one version of a model. */
export function versionPath(projectId: string, model: string, version: string | number): string {
  return `${modelPath(projectId, model)}/versions/${version}`;
}

/** MODEL_VERSION_STATUS_READY -> ready, and the badge's colour for it. */
export function versionStatus(version: ModelVersionJson): { label: string; tone: 'good' | 'bad' | 'warn' } {
  switch (version.status) {
    case 'MODEL_VERSION_STATUS_READY':
      return { label: 'ready', tone: 'good' };
    case 'MODEL_VERSION_STATUS_FAILED':
      return { label: 'failed', tone: 'bad' };
    default:
      return { label: 'pending', tone: 'warn' };
  }
}

/** A version number from JSON (int64 as a string); 0 means none. */
export function versionNumber(value: string | number | undefined): number {
  return Number(value ?? 0);
}

/**
 * The version `alias` pointed at at `when`, read from its history (newest first, as the registry
 * lists it): the target of the last change at or before that moment; 0 when it pointed at none.
 */
export function versionAt(history: readonly AliasChangeJson[], alias: string, when: Date): number {
  const change = history.find((entry) => entry.alias === alias && new Date(entry.changeTime ?? 0).getTime() <= when.getTime());
  return change ? versionNumber(change.toVersion) : 0;
}

/** The governance request a protected alias move needs, in the registry's terms (libs/registry's alias-approval). */
export function aliasApprovalWanted(projectId: string, model: string, alias: string, version: number): { action: string; resource: string; details: Record<string, string> } {
  return { action: 'registry.alias.set', resource: `projects/${projectId}/models/${model}/aliases/${alias}`, details: { version: String(version) } };
}

/**
 * The pending approval for exactly this move, or a new request: asking twice does not pile up
 * requests for the deciders.
 */
export async function requestAliasApproval(client: GatewayClient, projectId: string, model: string, alias: string, version: number): Promise<ApprovalJson> {
  const wanted = aliasApprovalWanted(projectId, model, alias, version);
  const { approvals = [] } = await client.call<ListApprovalsResponseJson>(APPROVALS.list, { projectId, state: 'APPROVAL_STATE_PENDING', pageSize: 1000 });
  const same = approvals.find((approval) => approval.action === wanted.action && approval.resource === wanted.resource && approval.details?.version === wanted.details.version);
  if (same) return same;
  const { approval = {} } = await client.call<RequestApprovalResponseJson>(APPROVALS.request, { projectId, ...wanted });
  return approval;
}

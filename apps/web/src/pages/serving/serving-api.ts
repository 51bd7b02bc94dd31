import type { RpcMethod } from '@trellis/client';
import type { EndpointJson, RevisionJson, TrafficSplitJson } from '@trellis/proto/trellis/serving/v1/resources_pb';

/** The serving calls the pages make. */
export const SERVING = {
  listEndpoints: 'trellis.serving.v1.EndpointService/ListEndpoints',
  getEndpoint: 'trellis.serving.v1.EndpointService/GetEndpoint',
  getEndpointStats: 'trellis.serving.v1.EndpointService/GetEndpointStats',
  rollbackEndpoint: 'trellis.serving.v1.EndpointService/RollbackEndpoint',
} as const satisfies Record<string, RpcMethod>;

export function endpointPath(projectId: string, endpointId: string): string {
  return `/ui/p/${projectId}/endpoints/${endpointId}`;
}

/** A revision as people name it: `Revision 2 (churn v4)`. */
export function revisionLabel(revision: RevisionJson | undefined, id = ''): string {
  return revision ? `Revision ${revision.number} (${revision.modelName} v${revision.modelVersion})` : `Revision ${id.slice(0, 8)}`;
}

/** A split's shares with the revisions they name, in the split's order. */
export function sharesOf(endpoint: EndpointJson, split: TrafficSplitJson | undefined = endpoint.traffic): Array<{ revision?: RevisionJson; revisionId: string; percent: number }> {
  const byId = new Map((endpoint.revisions ?? []).map((revision) => [revision.id, revision]));
  return (split?.targets ?? []).map((target) => ({ revision: byId.get(target.revisionId), revisionId: target.revisionId ?? '', percent: target.percent ?? 0 }));
}

/** `ready` when every revision with traffic is, else the states of those that are not (pending, failed). */
export function readiness(endpoint: EndpointJson): string {
  const states = sharesOf(endpoint).map(({ revision }) => (revision?.state ?? 'REVISION_STATE_PENDING').replace('REVISION_STATE_', '').toLowerCase());
  const notReady = [...new Set(states.filter((state) => state !== 'ready'))];
  return notReady.length === 0 ? 'ready' : notReady.join(', ');
}

import type { GetEndpointResponseJson, ListEndpointsResponseJson } from '@trellis/proto/trellis/serving/v1/endpoint_service_pb';
import type { EndpointJson, RevisionJson, TrafficSplitJson } from '@trellis/proto/trellis/serving/v1/resources_pb';
import type { CliContext } from '../context';
import { CliError, EXIT } from '../exit-codes';

/** The project's endpoint of that name, or the endpoint of that id; undefined when there is none. */
export async function findEndpoint(ctx: CliContext, nameOrId: string): Promise<EndpointJson | undefined> {
  const projectId = await ctx.projectId();
  let pageToken = '';
  do {
    const page = await ctx.client().call<ListEndpointsResponseJson>('trellis.serving.v1.EndpointService/ListEndpoints', { projectId, pageSize: 1000, pageToken });
    const found = page.endpoints?.find((endpoint) => endpoint.name === nameOrId || endpoint.id === nameOrId);
    if (found) return found;
    pageToken = page.nextPageToken ?? '';
  } while (pageToken);
  return undefined;
}

/** As findEndpoint, or a CliError (exit 5) that says how to list endpoints. */
export async function endpointNamed(ctx: CliContext, nameOrId: string): Promise<EndpointJson> {
  const found = await findEndpoint(ctx, nameOrId);
  if (!found) throw new CliError(`no endpoint "${nameOrId.slice(0, 64)}" in this project: \`trellis endpoints list\` shows them`, EXIT.notFound);
  return found;
}

/** The endpoint as it is now. */
export async function reloadEndpoint(ctx: CliContext, endpointId: string): Promise<EndpointJson> {
  const { endpoint } = await ctx.client().call<GetEndpointResponseJson>('trellis.serving.v1.EndpointService/GetEndpoint', { endpointId });
  return endpoint ?? {};
}

/** A revision as people name it: `2 (churn v4)`. */
export function revisionLabel(revision: RevisionJson | undefined, id = ''): string {
  if (!revision) return id;
  return `${revision.number} (${revision.modelName} v${revision.modelVersion})`;
}

/** A split in one line: `1 (churn v3) 90%, 2 (churn v4) 10%, shadow 3 (churn v5)`. */
export function splitLine(endpoint: EndpointJson, split: TrafficSplitJson | undefined = endpoint.traffic): string {
  const byId = new Map((endpoint.revisions ?? []).map((revision) => [revision.id, revision]));
  const parts = (split?.targets ?? []).map((target) => `${revisionLabel(byId.get(target.revisionId), target.revisionId)} ${target.percent ?? 0}%`);
  if (split?.shadowRevisionId) parts.push(`shadow ${revisionLabel(byId.get(split.shadowRevisionId), split.shadowRevisionId)}`);
  return parts.join(', ') || '(none)';
}

/** A revision's state without the enum's prefix: READY, PENDING, FAILED. */
export function stateOf(revision: RevisionJson): string {
  return (revision.state ?? 'REVISION_STATE_UNSPECIFIED').replace('REVISION_STATE_', '');
}

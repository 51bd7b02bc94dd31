import { GatewayRequestError, type GatewayClient } from '@trellis/client';
import type { GetLineageResponseJson, LineageNodeJson } from '@trellis/proto/trellis/data/v1/lineage_service_pb';
import type { GetVersionLineageResponseJson } from '@trellis/proto/trellis/registry/v1/registry_service_pb';
import type { LineageJson } from '@trellis/proto/trellis/registry/v1/resources_pb';
import type { ListEndpointsResponseJson } from '@trellis/proto/trellis/serving/v1/endpoint_service_pb';

/** An endpoint that sends some of its traffic to a version. */
export interface ServingEndpoint {
  id: string;
  name: string;
  percent: number;
}

/** A version's chain: the dataset versions its run used, the run, the version, and the endpoints serving it. */
export interface VersionChain {
  lineage: LineageJson;
  /** Dataset versions upstream of the version, as data's lineage graph names them (datasets/<id>/versions/<n>). */
  datasetVersions: LineageNodeJson[];
  endpoints: ServingEndpoint[];
}

/**
 * Gathers a version's chain from the three services that each know a part of it: the registry
 * (its run and the datasets as tracking recorded them), data's lineage graph (the dataset versions
 * by id) and serving (the endpoints whose traffic reaches it).
 */
export async function versionChain(client: GatewayClient, projectId: string, modelName: string, version: number): Promise<VersionChain> {
  const { lineage = {} } = await client.call<GetVersionLineageResponseJson>('trellis.registry.v1.RegistryService/GetVersionLineage', { projectId, modelName, version });
  const [datasetVersions, endpoints] = await Promise.all([upstreamDatasetVersions(client, projectId, modelName, version), endpointsServing(client, projectId, modelName, version)]);
  return { lineage, datasetVersions, endpoints };
}

async function upstreamDatasetVersions(client: GatewayClient, projectId: string, modelName: string, version: number): Promise<LineageNodeJson[]> {
  try {
    const { nodes = [] } = await client.call<GetLineageResponseJson>('trellis.data.v1.LineageService/GetLineage', {
      node: `projects/${projectId}/models/${modelName}/versions/${version}`,
      direction: 'LINEAGE_DIRECTION_UPSTREAM',
      depth: 3,
    });
    return nodes.filter((node) => node.kind === 'LINEAGE_NODE_KIND_DATASET_VERSION');
  } catch (error) {
    // No lineage recorded yet (a version from a URI, or events still on their way): the registry's part stands alone.
    if (error instanceof GatewayRequestError && error.status === 'NOT_FOUND') return [];
    throw error;
  }
}

async function endpointsServing(client: GatewayClient, projectId: string, modelName: string, version: number): Promise<ServingEndpoint[]> {
  const serving: ServingEndpoint[] = [];
  let pageToken = '';
  do {
    const page = await client.call<ListEndpointsResponseJson>('trellis.serving.v1.EndpointService/ListEndpoints', { projectId, pageSize: 1000, pageToken });
    for (const endpoint of page.endpoints ?? []) {
      const revisions = new Set(
        (endpoint.revisions ?? []).filter((revision) => revision.modelName === modelName && Number(revision.modelVersion) === version).map((revision) => revision.id),
      );
      const percent = (endpoint.traffic?.targets ?? []).filter((target) => revisions.has(target.revisionId)).reduce((sum, target) => sum + (target.percent ?? 0), 0);
      if (percent > 0) serving.push({ id: endpoint.id ?? '', name: endpoint.name ?? '', percent });
    }
    pageToken = page.nextPageToken ?? '';
  } while (pageToken);
  return serving;
}

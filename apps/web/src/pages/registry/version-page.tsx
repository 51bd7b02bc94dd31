import { GatewayRequestError } from '@trellis/client';
import type { GetLineageResponseJson } from '@trellis/proto/trellis/data/v1/lineage_service_pb';
import type { GetVersionLineageResponseJson, GetVersionResponseJson } from '@trellis/proto/trellis/registry/v1/registry_service_pb';
import type { ListEndpointsResponseJson } from '@trellis/proto/trellis/serving/v1/endpoint_service_pb';
import { Link, useParams } from 'react-router';
import { useRpc } from '../../api/use-rpc';
import { formatTime } from '../../components/format';
import { Fields, Page, Panel } from '../../components/page';
import { useProjectId } from '../project-layout';
import { LineageChain } from './lineage-chain';
import { modelPath, REGISTRY, versionStatus } from './registry-api';
import './registry.css';

/** One version of a model: what it is, and its lineage from dataset versions to the endpoints serving it. */
export function VersionPage() {
  const projectId = useProjectId();
  const params = useParams();
  const modelName = params.modelName ?? '';
  const version = Number(params.version);
  const request = { projectId, modelName, version };
  const found = useRpc<GetVersionResponseJson>(REGISTRY.getVersion, request);
  const lineage = useRpc<GetVersionLineageResponseJson>(REGISTRY.getVersionLineage, request);
  const graph = useRpc<GetLineageResponseJson>('trellis.data.v1.LineageService/GetLineage', {
    node: `projects/${projectId}/models/${modelName}/versions/${version}`,
    direction: 'LINEAGE_DIRECTION_UPSTREAM',
    depth: 3,
  });
  const endpoints = useRpc<ListEndpointsResponseJson>('trellis.serving.v1.EndpointService/ListEndpoints', { projectId, pageSize: 1000 });
  const current = found.data?.version;
  const status = current ? versionStatus(current) : undefined;
  // Data's graph has no node for a version it heard nothing about (a version from a URI): that is an empty graph, not an error.
  const graphError = graph.error instanceof GatewayRequestError && graph.error.status === 'NOT_FOUND' ? undefined : graph.error;
  return (
    <Page
      title={
        <>
          <Link to={modelPath(projectId, modelName)}>{modelName}</Link> version {params.version}
        </>
      }
      error={found.error}
      loading={found.loading && !found.data}
    >
      {current ? (
        <Fields
          fields={[
            ['Status', status ? <span className={`badge ${status.tone}`}>{status.label}</span> : undefined],
            ['Status message', current.statusMessage],
            ['Format', current.format],
            ['Source', current.source],
            ['Aliases', (current.aliases ?? []).join(', ')],
            ['Description', current.description],
            ['Created', formatTime(current.createTime)],
            ['Created by', current.creatorId],
          ]}
        />
      ) : null}
      <Panel title="Lineage">
        <LineageChain
          projectId={projectId}
          modelName={modelName}
          version={version}
          lineage={lineage.data?.lineage}
          graph={graphError ? undefined : graph.data}
          endpoints={endpoints.data?.endpoints}
          errors={[lineage.error, graphError, endpoints.error]}
        />
      </Panel>
    </Page>
  );
}

import type { GetLineageResponseJson, LineageNodeJson } from '@trellis/proto/trellis/data/v1/lineage_service_pb';
import type { GetDatasetResponseJson } from '@trellis/proto/trellis/data/v1/data_service_pb';
import type { LineageJson } from '@trellis/proto/trellis/registry/v1/resources_pb';
import type { EndpointJson } from '@trellis/proto/trellis/serving/v1/resources_pb';
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { useRpc } from '../../api/use-rpc';
import { ErrorBanner } from '../../components/error-banner';

/**
 * A version's lineage as one chain, dataset versions -> run -> version -> endpoints, each node a
 * link to its page. The parts come from three services: data's lineage graph (dataset versions
 * by id), the registry (the run, and the datasets as tracking recorded them) and serving (the
 * endpoints whose traffic reaches this version).
 */
export function LineageChain({
  projectId,
  modelName,
  version,
  lineage,
  graph,
  endpoints,
  errors,
}: {
  projectId: string;
  modelName: string;
  version: number;
  lineage?: LineageJson;
  graph?: GetLineageResponseJson;
  endpoints?: EndpointJson[];
  errors: Array<Error | undefined>;
}) {
  const datasetVersions = (graph?.nodes ?? []).filter((node) => node.kind === 'LINEAGE_NODE_KIND_DATASET_VERSION' && /^datasets\/[^/]+\/versions\/\d+$/.test(node.name ?? ''));
  // Datasets tracking recorded that are not Trellis dataset versions (a file, a bucket) have no page: shown by name.
  const otherDatasets = (lineage?.datasets ?? []).filter((dataset) => !dataset.source?.startsWith('datasets:/'));
  const serving = (endpoints ?? []).flatMap((endpoint) => {
    const revisions = new Set((endpoint.revisions ?? []).filter((revision) => revision.modelName === modelName && Number(revision.modelVersion) === version).map((revision) => revision.id));
    const percent = (endpoint.traffic?.targets ?? []).filter((target) => revisions.has(target.revisionId)).reduce((sum, target) => sum + (target.percent ?? 0), 0);
    return percent > 0 ? [{ endpoint, percent }] : [];
  });
  return (
    <>
      {errors.map((error, index) => (
        <ErrorBanner key={index} error={error} />
      ))}
      <ol className="lineage-chain" aria-label={`Lineage of ${modelName} version ${version}`}>
        <li>
          <Node kind="Dataset versions">
            {datasetVersions.length + otherDatasets.length === 0 ? <span className="muted">none recorded</span> : null}
            <ul>
              {datasetVersions.map((node) => (
                <li key={node.name}>
                  <DatasetVersionLink projectId={projectId} node={node} />
                </li>
              ))}
              {otherDatasets.map((dataset) => (
                <li key={`${dataset.name}-${dataset.digest}`}>
                  {dataset.name} <span className="muted">({dataset.source})</span>
                </li>
              ))}
            </ul>
          </Node>
        </li>
        <li>
          <Node kind="Run">
            {lineage?.runId ? (
              <Link to={`/ui/p/${projectId}/runs/${lineage.runId}`}>{lineage.runName || lineage.runId.slice(0, 8)}</Link>
            ) : (
              <span className="muted">{lineage ? 'not made from a run' : '…'}</span>
            )}
          </Node>
        </li>
        <li>
          <Node kind="Model version">
            <strong>
              {modelName} v{version}
            </strong>
          </Node>
        </li>
        <li>
          <Node kind="Endpoints">
            {endpoints && serving.length === 0 ? <span className="muted">none serves it</span> : null}
            <ul>
              {serving.map(({ endpoint, percent }) => (
                <li key={endpoint.id}>
                  <Link to={`/ui/p/${projectId}/endpoints/${endpoint.id}`}>{endpoint.name}</Link> <span className="muted">{percent}% of traffic</span>
                </li>
              ))}
            </ul>
          </Node>
        </li>
      </ol>
    </>
  );
}

function Node({ kind, children }: { kind: string; children: ReactNode }) {
  return (
    <div className="lineage-node">
      <span className="kind">{kind}</span>
      {children}
    </div>
  );
}

/** datasets/<id>/versions/<n> as "<dataset name> v<n>", linked to the dataset's page. */
function DatasetVersionLink({ projectId, node }: { projectId: string; node: LineageNodeJson }) {
  const [, datasetId = '', , number] = (node.name ?? '').split('/');
  const { data } = useRpc<GetDatasetResponseJson>('trellis.data.v1.DataService/GetDataset', { datasetId });
  return (
    <Link to={`/ui/p/${projectId}/datasets/${datasetId}`}>
      {data?.dataset?.name ?? datasetId.slice(0, 8)} v{number}
    </Link>
  );
}

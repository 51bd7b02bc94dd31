import type { ListEndpointsResponseJson } from '@trellis/proto/trellis/serving/v1/endpoint_service_pb';
import type { EndpointJson } from '@trellis/proto/trellis/serving/v1/resources_pb';
import { Link } from 'react-router';
import { useRpc } from '../../api/use-rpc';
import { DataTable } from '../../components/data-table';
import { formatTime } from '../../components/format';
import { Page } from '../../components/page';
import { useProjectId } from '../project-layout';
import { endpointPath, readiness, revisionLabel, SERVING, sharesOf } from './serving-api';
import './serving.css';

/** The project's endpoints: the model each serves, whether its revisions with traffic are ready, and the split. */
export function EndpointsPage() {
  const projectId = useProjectId();
  const { data, error, loading } = useRpc<ListEndpointsResponseJson>(SERVING.listEndpoints, { projectId, pageSize: 1000 });
  return (
    <Page title="Endpoints" error={error} loading={loading && !data}>
      <DataTable<EndpointJson>
        label="Endpoints"
        rows={data?.endpoints ?? []}
        rowKey={(endpoint) => endpoint.id ?? ''}
        empty="No endpoints yet: deploy a registered version (trellis deploy <name> --model models:/<model>/<version>)."
        columns={[
          { key: 'name', header: 'Name', cell: (endpoint) => <Link to={endpointPath(projectId, endpoint.id ?? '')}>{endpoint.name}</Link> },
          {
            key: 'model',
            header: 'Model',
            cell: (endpoint) => [...new Set(sharesOf(endpoint).map(({ revision }) => (revision ? `${revision.modelName} v${revision.modelVersion}` : '')))].filter(Boolean).join(', '),
          },
          {
            key: 'ready',
            header: 'State',
            cell: (endpoint) => {
              const state = readiness(endpoint);
              return <span className={`badge ${state === 'ready' ? 'good' : state.includes('failed') ? 'bad' : 'warn'}`}>{state}</span>;
            },
          },
          { key: 'traffic', header: 'Traffic', cell: (endpoint) => sharesOf(endpoint).map(({ revision, revisionId, percent }) => `${revisionLabel(revision, revisionId)} ${percent}%`).join(', ') },
          { key: 'updated', header: 'Updated', cell: (endpoint) => formatTime(endpoint.updateTime) },
        ]}
      />
    </Page>
  );
}

import type { SearchExperimentsResponseJson } from '@trellis/proto/trellis/tracking/v1/experiment_service_pb';
import { Link } from 'react-router';
import { useRpc } from '../../api/use-rpc';
import { DataTable } from '../../components/data-table';
import { formatTime } from '../../components/format';
import { Page } from '../../components/page';
import { useProjectId } from '../project-layout';
import { trackingPaths } from './paths';

/** The project's experiments, newest first. */
export function ExperimentsPage() {
  const projectId = useProjectId();
  const { data, error, loading } = useRpc<SearchExperimentsResponseJson>('trellis.tracking.v1.ExperimentService/SearchExperiments', { projectIds: [projectId], pageSize: 200, orderBy: ['creation_time DESC'] });
  const experiments = data?.experiments ?? [];
  return (
    <Page title="Experiments" error={error} loading={loading}>
      <DataTable
        label="Experiments"
        rows={experiments}
        rowKey={(experiment) => experiment.id ?? ''}
        columns={[
          { key: 'name', header: 'Name', cell: (experiment) => <Link to={trackingPaths(projectId).experiment(experiment.id ?? '')}>{experiment.name}</Link> },
          { key: 'created', header: 'Created', cell: (experiment) => formatTime(experiment.createTime) },
        ]}
        empty="No experiments yet: log a run with the MLflow client, or submit a job."
      />
    </Page>
  );
}

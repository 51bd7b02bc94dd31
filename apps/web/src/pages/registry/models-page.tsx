import type { SearchModelsResponseJson } from '@trellis/proto/trellis/registry/v1/registry_service_pb';
import type { RegisteredModelJson } from '@trellis/proto/trellis/registry/v1/resources_pb';
import { Link } from 'react-router';
import { useRpc } from '../../api/use-rpc';
import { DataTable } from '../../components/data-table';
import { formatTime } from '../../components/format';
import { Page } from '../../components/page';
import { useProjectId } from '../project-layout';
import { modelPath, REGISTRY } from './registry-api';

/** The project's registered models: each one's latest version and aliases. */
export function ModelsPage() {
  const projectId = useProjectId();
  const { data, error, loading } = useRpc<SearchModelsResponseJson>(REGISTRY.searchModels, { projectIds: [projectId], pageSize: 1000 });
  return (
    <Page title="Models" error={error} loading={loading && !data}>
      <DataTable<RegisteredModelJson>
        label="Registered models"
        rows={data?.models ?? []}
        rowKey={(model) => model.name ?? ''}
        empty="No models yet: register one from a run (trellis models register)."
        columns={[
          { key: 'name', header: 'Name', cell: (model) => <Link to={modelPath(projectId, model.name ?? '')}>{model.name}</Link> },
          { key: 'latest', header: 'Latest version', align: 'right', cell: (model) => model.latestVersion ?? '0' },
          {
            key: 'aliases',
            header: 'Aliases',
            cell: (model) =>
              (model.aliases ?? []).map((pointer) => (
                <span key={pointer.alias} className="badge">
                  {pointer.alias} → v{pointer.version}
                </span>
              )),
          },
          { key: 'description', header: 'Description', cell: (model) => model.description },
          { key: 'updated', header: 'Updated', cell: (model) => formatTime(model.updateTime) },
        ]}
      />
    </Page>
  );
}

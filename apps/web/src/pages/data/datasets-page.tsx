import type { CreateDatasetResponseJson, ListDatasetsResponseJson } from '@trellis/proto/trellis/data/v1/data_service_pb';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { useMutation, useRpc } from '../../api/use-rpc';
import { DataTable } from '../../components/data-table';
import { ErrorBanner } from '../../components/error-banner';
import { formatTime } from '../../components/format';
import { Page, Panel } from '../../components/page';
import { useCan, useProjectId } from '../project-layout';

/** The project's datasets, and for editors a form to create one (versions come from `trellis datasets push`). */
export function DatasetsPage() {
  const projectId = useProjectId();
  const canEdit = useCan('editor');
  const navigate = useNavigate();
  const { data, error, loading } = useRpc<ListDatasetsResponseJson>('trellis.data.v1.DataService/ListDatasets', { projectId, pageSize: 1000 });
  const create = useMutation<CreateDatasetResponseJson>('trellis.data.v1.DataService/CreateDataset');
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const created = await create.run({ projectId, name, description });
    if (created?.dataset?.id) navigate(created.dataset.id);
  };
  return (
    <Page title="Datasets" error={error} loading={loading}>
      <DataTable
        label="Datasets"
        rows={data?.datasets ?? []}
        rowKey={(dataset) => dataset.id ?? ''}
        columns={[
          { key: 'name', header: 'Name', cell: (dataset) => <Link to={dataset.id ?? ''}>{dataset.name}</Link> },
          { key: 'latest', header: 'Latest version', align: 'right', cell: (dataset) => (dataset.latestVersion === '0' ? <span className="muted">none</span> : dataset.latestVersion) },
          { key: 'description', header: 'Description', cell: (dataset) => dataset.description },
          { key: 'updated', header: 'Updated', cell: (dataset) => formatTime(dataset.updateTime) },
        ]}
        empty="No datasets yet: push a directory with `trellis datasets push <name> <dir> --create`."
      />
      {data?.nextPageToken ? <p className="muted">The first 1,000 datasets by name; `trellis datasets list` lists them all.</p> : null}
      {canEdit ? (
        <Panel title="New dataset">
          <form className="inline-form" onSubmit={submit}>
            <label htmlFor="dataset-name">Name</label>
            <input id="dataset-name" value={name} onChange={(event) => setName(event.target.value)} maxLength={128} required />
            <label htmlFor="dataset-description">Description</label>
            <input id="dataset-description" value={description} onChange={(event) => setDescription(event.target.value)} maxLength={4096} />
            <button type="submit" disabled={create.pending}>
              Create
            </button>
          </form>
          <ErrorBanner error={create.error} />
        </Panel>
      ) : null}
    </Page>
  );
}

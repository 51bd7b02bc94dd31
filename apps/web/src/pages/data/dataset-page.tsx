import type { GetDatasetResponseJson, ListDatasetVersionsResponseJson } from '@trellis/proto/trellis/data/v1/data_service_pb';
import { Link, useParams } from 'react-router';
import { useRpc } from '../../api/use-rpc';
import { DataTable } from '../../components/data-table';
import { formatBytes, formatTime } from '../../components/format';
import { Fields, Page, Panel } from '../../components/page';
import { VersionDiff } from './version-diff';

/** A dataset: what it is, its versions (newest first), and the difference between two of them. */
export function DatasetPage() {
  const { datasetId = '' } = useParams();
  const dataset = useRpc<GetDatasetResponseJson>('trellis.data.v1.DataService/GetDataset', { datasetId });
  const versions = useRpc<ListDatasetVersionsResponseJson>('trellis.data.v1.DataService/ListDatasetVersions', { datasetId, pageSize: 1000 });
  const found = dataset.data?.dataset;
  const rows = versions.data?.versions ?? [];
  return (
    <Page title={found ? `Dataset ${found.name}` : 'Dataset'} error={dataset.error ?? versions.error} loading={dataset.loading || versions.loading}>
      {found ? (
        <Fields
          fields={[
            ['Description', found.description],
            ['Latest version', found.latestVersion === '0' ? 'none' : found.latestVersion],
            ['Tags', (found.tags ?? []).map((tag) => `${tag.key}=${tag.value}`).join(', ')],
            ['Created', formatTime(found.createTime)],
            ['Pull', <code key="pull">trellis datasets pull {found.name}</code>],
          ]}
        />
      ) : null}
      <Panel title="Versions">
        <DataTable
          label="Versions"
          rows={rows}
          rowKey={(version) => version.version ?? ''}
          columns={[
            { key: 'version', header: 'Version', align: 'right', cell: (version) => <Link to={`versions/${version.version}`}>{version.version}</Link> },
            { key: 'created', header: 'Created', cell: (version) => formatTime(version.createTime) },
            { key: 'message', header: 'Message', cell: (version) => version.message },
            { key: 'tags', header: 'Tags', cell: (version) => (version.tags ?? []).map((tag) => <span key={tag} className="badge">{tag}</span>) },
            { key: 'files', header: 'Files', align: 'right', cell: (version) => Number(version.fileCount ?? 0).toLocaleString() },
            { key: 'bytes', header: 'Size', align: 'right', cell: (version) => formatBytes(version.totalBytes) },
          ]}
          empty="No versions yet: `trellis datasets push` makes one."
        />
      </Panel>
      {rows.length >= 2 ? <VersionDiff datasetId={datasetId} versions={rows.map((version) => version.version ?? '')} /> : null}
    </Page>
  );
}

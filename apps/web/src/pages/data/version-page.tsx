import type { GetDatasetVersionResponseJson, ListDatasetVersionFilesResponseJson } from '@trellis/proto/trellis/data/v1/data_service_pb';
import type { GetVersionProfileResponseJson } from '@trellis/proto/trellis/data/v1/profile_service_pb';
import { useEffect } from 'react';
import { Link, useParams } from 'react-router';
import { useRpc } from '../../api/use-rpc';
import { DataTable } from '../../components/data-table';
import { ErrorBanner } from '../../components/error-banner';
import { enumLabel, formatBytes, formatTime } from '../../components/format';
import { Fields, Page, Panel } from '../../components/page';
import { useProjectId } from '../project-layout';
import { FileProfile } from './column-profile';
import { VersionTags } from './version-tags';

/** How often a profile still being computed is asked for again. */
const PROFILE_POLL_MS = 2000;

/** A version: its details and tags, its files, and the column profiles of its tabular files. */
export function VersionPage() {
  const { datasetId = '', version = '' } = useParams();
  const projectId = useProjectId();
  const found = useRpc<GetDatasetVersionResponseJson>('trellis.data.v1.DataService/GetDatasetVersion', { datasetId, version });
  const files = useRpc<ListDatasetVersionFilesResponseJson>('trellis.data.v1.DataService/ListDatasetVersionFiles', { datasetId, version, pageSize: 1000 });
  const profile = useRpc<GetVersionProfileResponseJson>('trellis.data.v1.ProfileService/GetVersionProfile', { datasetId, version, pageSize: 100 });
  const pending = profile.data?.status === 'PROFILE_STATUS_PENDING';
  const { reload } = profile;
  useEffect(() => {
    if (!pending) return;
    const timer = setTimeout(reload, PROFILE_POLL_MS);
    return () => clearTimeout(timer);
  }, [pending, reload, profile.data]);
  const details = found.data?.version;
  return (
    <Page title={details ? `${details.datasetName} version ${details.version}` : `Version ${version}`} error={found.error} loading={found.loading}>
      <p>
        <Link to={`/ui/p/${projectId}/datasets/${datasetId}`}>
          ← All versions of {details?.datasetName ?? 'the dataset'}
        </Link>
      </p>
      {details ? (
        <>
          <Fields
            fields={[
              ['Reference', <code key="reference">{details.reference}</code>],
              ['Message', details.message],
              ['Created', formatTime(details.createTime)],
              ['Author', details.authorId],
              ['Parent version', details.parentVersion === '0' ? 'none' : details.parentVersion],
              ['Files', Number(details.fileCount ?? 0).toLocaleString()],
              ['Size', formatBytes(details.totalBytes)],
              ['Storage', details.storageInstance],
            ]}
          />
          <VersionTags datasetId={datasetId} version={details} onChange={found.reload} />
        </>
      ) : null}
      <Panel title="Files">
        <ErrorBanner error={files.error} />
        <DataTable
          label="Files"
          rows={files.data?.files ?? []}
          rowKey={(file) => file.path ?? ''}
          columns={[
            { key: 'path', header: 'Path', cell: (file) => file.path },
            { key: 'size', header: 'Size', align: 'right', cell: (file) => formatBytes(file.sizeBytes) },
            { key: 'type', header: 'Media type', cell: (file) => file.mediaType },
            { key: 'sha256', header: 'SHA-256', cell: (file) => <code title={file.sha256}>{file.sha256?.slice(0, 12)}</code> },
          ]}
        />
        {files.data?.nextPageToken ? <p className="muted">The first 1,000 files by path; `trellis datasets show` lists them all.</p> : null}
      </Panel>
      <Panel title="Column profiles">
        <ErrorBanner error={profile.error} />
        {profile.data ? (
          <p className="muted" aria-live="polite">
            {enumLabel(profile.data.status, 'PROFILE_STATUS_')}: {profile.data.readyFiles} of {profile.data.tabularFiles} tabular files profiled
            {Number(profile.data.failedFiles ?? 0) > 0 ? `, ${profile.data.failedFiles} failed` : ''}
            {pending ? ' (this page updates itself)' : ''}
          </p>
        ) : null}
        {(profile.data?.files ?? [])
          .filter((file) => file.status !== 'PROFILE_STATUS_SKIPPED')
          .map((file) => (
            <FileProfile key={file.path} file={file} />
          ))}
      </Panel>
    </Page>
  );
}

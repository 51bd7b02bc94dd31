import type { DiffDatasetVersionsResponseJson } from '@trellis/proto/trellis/data/v1/data_service_pb';
import { useSearchParams } from 'react-router';
import { useRpc } from '../../api/use-rpc';
import { DataTable } from '../../components/data-table';
import { ErrorBanner } from '../../components/error-banner';
import { enumLabel, formatBytes } from '../../components/format';
import { Panel } from '../../components/page';

const KIND_BADGE: Record<string, string> = { FILE_CHANGE_KIND_ADDED: 'badge good', FILE_CHANGE_KIND_REMOVED: 'badge bad', FILE_CHANGE_KIND_CHANGED: 'badge warn' };

/**
 * The files added, removed and changed between two versions the user picks (newest against the one
 * before it at first); the choice is kept in the address (`?from=&to=`), so a diff can be linked.
 */
export function VersionDiff({ datasetId, versions }: { datasetId: string; versions: readonly string[] }) {
  const [params, setParams] = useSearchParams();
  const from = params.get('from') ?? versions[1];
  const to = params.get('to') ?? versions[0];
  const diff = useRpc<DiffDatasetVersionsResponseJson>('trellis.data.v1.DataService/DiffDatasetVersions', { datasetId, fromVersion: from, toVersion: to, pageSize: 1000 });
  const choose = (side: 'from' | 'to', value: string) => setParams({ from, to, [side]: value }, { replace: true });
  const changes = diff.data?.changes ?? [];
  return (
    <Panel title="Compare versions">
      <div className="inline-form">
        <label htmlFor="diff-from">From</label>
        <select id="diff-from" value={from} onChange={(event) => choose('from', event.target.value)}>
          {versions.map((version) => (
            <option key={version} value={version}>
              {version}
            </option>
          ))}
        </select>
        <label htmlFor="diff-to">To</label>
        <select id="diff-to" value={to} onChange={(event) => choose('to', event.target.value)}>
          {versions.map((version) => (
            <option key={version} value={version}>
              {version}
            </option>
          ))}
        </select>
        <span className="muted" aria-live="polite">
          {diff.loading ? 'Comparing…' : `${changes.length} file${changes.length === 1 ? '' : 's'} differ`}
        </span>
      </div>
      <ErrorBanner error={diff.error} />
      <DataTable
        label={`Differences from version ${from} to version ${to}`}
        rows={changes}
        rowKey={(change) => change.path ?? ''}
        columns={[
          { key: 'kind', header: 'Change', cell: (change) => <span className={KIND_BADGE[change.kind ?? ''] ?? 'badge'}>{enumLabel(change.kind, 'FILE_CHANGE_KIND_')}</span> },
          { key: 'path', header: 'Path', cell: (change) => change.path },
          { key: 'from', header: `Size in ${from}`, align: 'right', cell: (change) => (change.kind === 'FILE_CHANGE_KIND_ADDED' ? '' : formatBytes(change.fromSizeBytes)) },
          { key: 'to', header: `Size in ${to}`, align: 'right', cell: (change) => (change.kind === 'FILE_CHANGE_KIND_REMOVED' ? '' : formatBytes(change.toSizeBytes)) },
        ]}
        empty="The two versions hold the same files."
      />
      {diff.data?.nextPageToken ? <p className="muted">The first 1,000 differences; `trellis datasets diff` lists them all.</p> : null}
    </Panel>
  );
}

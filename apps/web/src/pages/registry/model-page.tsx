import type { GetModelResponseJson, ListAliasHistoryResponseJson, SearchVersionsResponseJson } from '@trellis/proto/trellis/registry/v1/registry_service_pb';
import type { ModelVersionJson } from '@trellis/proto/trellis/registry/v1/resources_pb';
import { Link, useParams } from 'react-router';
import { useRpc } from '../../api/use-rpc';
import { DataTable } from '../../components/data-table';
import { ErrorBanner } from '../../components/error-banner';
import { formatTime } from '../../components/format';
import { Fields, Page, Panel } from '../../components/page';
import { useCan, useProjectId } from '../project-layout';
import { AliasTimelines } from './alias-timeline';
import { MoveAliasForm } from './move-alias-form';
import { REGISTRY, versionPath, versionStatus } from './registry-api';
import './registry.css';

/** A model: what it is, its versions, where its aliases point, and how they moved. */
export function ModelPage() {
  const projectId = useProjectId();
  const modelName = useParams().modelName ?? '';
  const canMove = useCan('editor');
  const model = useRpc<GetModelResponseJson>(REGISTRY.getModel, { projectId, modelName });
  const versions = useRpc<SearchVersionsResponseJson>(REGISTRY.searchVersions, { projectIds: [projectId], nameLike: modelName, pageSize: 1000 });
  const history = useRpc<ListAliasHistoryResponseJson>(REGISTRY.listAliasHistory, { projectId, modelName, pageSize: 1000 });
  // SearchVersions matches names as a LIKE pattern: keep this model's own.
  const rows = (versions.data?.versions ?? []).filter((version) => version.modelName === modelName);
  const { description, aliases = [], protectedAliases = [], createTime, updateTime, creatorId } = model.data?.model ?? {};
  const reload = () => {
    model.reload();
    versions.reload();
    history.reload();
  };
  return (
    <Page title={`Model ${modelName}`} error={model.error} loading={model.loading && !model.data}>
      <Fields
        fields={[
          ['Description', description],
          ['Protected aliases', protectedAliases.join(', ')],
          ['Created', formatTime(createTime)],
          ['Created by', creatorId],
          ['Updated', formatTime(updateTime)],
        ]}
      />
      <Panel title="Aliases">
        {aliases.length === 0 ? <p className="muted">No aliases.</p> : null}
        <ul>
          {aliases.map((pointer) => (
            <li key={pointer.alias}>
              <strong>{pointer.alias}</strong> → <Link to={versionPath(projectId, modelName, pointer.version ?? 0)}>version {pointer.version}</Link>
              {protectedAliases.includes(pointer.alias ?? '') ? <span className="badge warn"> protected</span> : null}
            </li>
          ))}
        </ul>
        {canMove && model.data ? <MoveAliasForm projectId={projectId} model={modelName} versions={rows} protectedAliases={protectedAliases} onMoved={reload} /> : null}
      </Panel>
      <Panel title="Versions">
        <ErrorBanner error={versions.error} />
        <DataTable<ModelVersionJson>
          label={`Versions of ${modelName}`}
          rows={rows}
          rowKey={(version) => String(version.version)}
          empty="No versions yet."
          columns={[
            { key: 'version', header: 'Version', cell: (version) => <Link to={versionPath(projectId, modelName, version.version ?? 0)}>v{version.version}</Link> },
            {
              key: 'status',
              header: 'Status',
              cell: (version) => {
                const { label, tone } = versionStatus(version);
                return (
                  <span className={`badge ${tone}`} title={version.statusMessage || undefined}>
                    {label}
                  </span>
                );
              },
            },
            { key: 'format', header: 'Format', cell: (version) => version.format },
            { key: 'run', header: 'Source run', cell: (version) => (version.runId ? <Link to={`/ui/p/${projectId}/runs/${version.runId}`}>{version.runId.slice(0, 8)}</Link> : version.source) },
            { key: 'aliases', header: 'Aliases', cell: (version) => (version.aliases ?? []).join(', ') },
            { key: 'created', header: 'Created', cell: (version) => formatTime(version.createTime) },
          ]}
        />
      </Panel>
      <Panel title="Alias history">
        <ErrorBanner error={history.error} />
        {history.error ? null : <AliasTimelines projectId={projectId} model={modelName} history={history.data?.changes ?? []} />}
      </Panel>
    </Page>
  );
}

import type { GetEndpointResponseJson } from '@trellis/proto/trellis/serving/v1/endpoint_service_pb';
import type { EndpointJson, RevisionJson } from '@trellis/proto/trellis/serving/v1/resources_pb';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { useRpc } from '../../api/use-rpc';
import { DataTable } from '../../components/data-table';
import { enumLabel, formatTime } from '../../components/format';
import { Fields, Page, Panel } from '../../components/page';
import { useCan, useProjectId } from '../project-layout';
import { EndpointStatsCharts } from './endpoint-stats-charts';
import { RollbackDialog } from './rollback-dialog';
import { SERVING } from './serving-api';
import { TrafficBar } from './traffic-bar';
import './serving.css';

/** One endpoint: its traffic split and revisions, its latency and error charts, its rollout policy, and Roll back for editors. */
export function EndpointPage() {
  const { endpointId = '' } = useParams();
  const canEdit = useCan('editor');
  const { data, error, loading, reload } = useRpc<GetEndpointResponseJson>(SERVING.getEndpoint, { endpointId });
  const [confirming, setConfirming] = useState(false);
  const endpoint = data?.endpoint;
  const actions =
    canEdit && endpoint?.previousTraffic ? (
      <button type="button" className="danger" onClick={() => setConfirming(true)}>
        Roll back
      </button>
    ) : null;
  return (
    <Page title={endpoint?.name ?? 'Endpoint'} actions={actions} error={error} loading={loading && !data}>
      {endpoint ? (
        <>
          <Panel title="Traffic">
            <TrafficBar endpoint={endpoint} />
            {endpoint.previousTraffic ? (
              <div className="muted">
                <p>Before the last change:</p>
                <TrafficBar endpoint={endpoint} split={endpoint.previousTraffic} label="Previous split" />
              </div>
            ) : (
              <p className="muted">The split has not changed since the endpoint was created: there is nothing to roll back to.</p>
            )}
          </Panel>
          <Panel title="Revisions">
            <RevisionsTable endpoint={endpoint} />
          </Panel>
          <EndpointStatsCharts endpointId={endpointId} />
          <RolloutPanel endpoint={endpoint} />
        </>
      ) : null}
      {confirming && endpoint ? (
        <RollbackDialog
          endpoint={endpoint}
          onClose={() => setConfirming(false)}
          onDone={reload}
        />
      ) : null}
    </Page>
  );
}

function RevisionsTable({ endpoint }: { endpoint: EndpointJson }) {
  const projectId = useProjectId();
  const percents = new Map((endpoint.traffic?.targets ?? []).map((target) => [target.revisionId, target.percent ?? 0]));
  return (
    <DataTable<RevisionJson>
      label="Revisions"
      rows={endpoint.revisions ?? []}
      rowKey={(revision) => revision.id ?? ''}
      columns={[
        { key: 'number', header: 'Revision', align: 'right', cell: (revision) => revision.number },
        {
          key: 'model',
          header: 'Model version',
          cell: (revision) => (
            <Link to={`/ui/p/${projectId}/models/${encodeURIComponent(revision.modelName ?? '')}/versions/${revision.modelVersion}`}>
              {revision.modelName} v{revision.modelVersion}
            </Link>
          ),
        },
        { key: 'ref', header: 'Deployed from', cell: (revision) => revision.modelRef },
        {
          key: 'state',
          header: 'State',
          cell: (revision) => {
            const state = enumLabel(revision.state, 'REVISION_STATE_');
            return (
              <>
                <span className={`badge ${state === 'ready' ? 'good' : state === 'failed' ? 'bad' : 'warn'}`}>{state}</span> {revision.stateMessage}
              </>
            );
          },
        },
        { key: 'traffic', header: 'Traffic', align: 'right', cell: (revision) => (revision.id === endpoint.traffic?.shadowRevisionId ? 'shadow' : `${percents.get(revision.id) ?? 0}%`) },
        { key: 'created', header: 'Deployed', cell: (revision) => formatTime(revision.createTime) },
      ]}
    />
  );
}

function RolloutPanel({ endpoint }: { endpoint: EndpointJson }) {
  const { rolloutPolicy: policy, rollout } = endpoint;
  if (!policy && !rollout) return null;
  return (
    <Panel title="Progressive rollout">
      <Fields
        fields={[
          ['Follows', policy?.follow],
          ['Canary', policy ? `${policy.canaryPercent ?? 0}% for ${Math.round(Number(policy.bakeTimeMs ?? 0) / 60_000)} min` : undefined],
          ['Guards', policy?.guards ? `errors ≤ ${policy.guards.maxErrorPercent ?? 0}%, p99 ≤ ${policy.guards.maxP99LatencyMs ?? 0} ms, from ${policy.guards.minRequests ?? 0} requests` : undefined],
          ['Latest rollout', rollout ? `${enumLabel(rollout.stage, 'ROLLOUT_STAGE_')}: version ${rollout.modelVersion}` : undefined],
          ['Reason', rollout?.reason],
          ['Decided', formatTime(rollout?.decideTime)],
        ]}
      />
    </Panel>
  );
}

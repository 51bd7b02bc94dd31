import type { ResolveDatasetReferenceResponseJson } from '@trellis/proto/trellis/data/v1/data_service_pb';
import type { GetExperimentResponseJson } from '@trellis/proto/trellis/tracking/v1/experiment_service_pb';
import type { DatasetInputJson, RunJson } from '@trellis/proto/trellis/tracking/v1/resources_pb';
import type { GetRunResponseJson } from '@trellis/proto/trellis/tracking/v1/run_service_pb';
import { Link, useParams } from 'react-router';
import { useRpc } from '../../api/use-rpc';
import { DataTable } from '../../components/data-table';
import { formatNumber, formatTime } from '../../components/format';
import { Fields, Page, Panel } from '../../components/page';
import { useProjectId } from '../project-layout';
import { ArtifactsBrowser } from './artifacts-browser';
import { datasetReferenceOf } from './dataset-reference';
import { trackingPaths } from './paths';
import { RunStatusBadge } from './run-status-badge';
import { SampledMetricChart } from './sampled-metric-chart';

/**
 * One run: what it is (status, times, user, source), its metrics as charts that fetch detail
 * when zoomed, its params and tags, the datasets it read (linked when they are Trellis dataset
 * versions) and its artifacts.
 */
export function RunPage() {
  const projectId = useProjectId();
  const paths = trackingPaths(projectId);
  const { runId = '' } = useParams();
  const { data, error, loading } = useRpc<GetRunResponseJson>('trellis.tracking.v1.RunService/GetRun', { runId });
  const run = data?.run;
  const info = run?.info;
  const experiment = useRpc<GetExperimentResponseJson>('trellis.tracking.v1.ExperimentService/GetExperiment', info?.experimentId ? { experimentId: info.experimentId } : undefined);
  const metricKeys = [...new Set((run?.data?.metrics ?? []).map((metric) => metric.key ?? ''))].sort();
  return (
    <Page title={info ? info.runName || info.id : `Run ${runId}`} error={error} loading={loading}>
      {run && info ? (
        <>
          <Panel title="Run">
            <Fields
              fields={[
                ['Status', <RunStatusBadge status={info.status} />],
                ['Experiment', <Link to={paths.experiment(info.experimentId ?? '')}>{experiment.data?.experiment?.name ?? info.experimentId}</Link>],
                ['Started', formatTime(info.startTime)],
                ['Ended', formatTime(info.endTime)],
                ['Duration', durationOf(info.startTime, info.endTime)],
                ['User', info.userId],
                ['Source', tagOf(run, 'mlflow.source.name')],
                ['Parent run', info.parentRunId ? <Link to={paths.run(info.parentRunId)}>{info.parentRunId}</Link> : undefined],
                ['Run ID', <code>{info.id}</code>],
              ]}
            />
          </Panel>
          <Panel title="Metrics">
            {metricKeys.length === 0 ? <p className="muted">This run logged no metrics.</p> : null}
            <div className="metric-charts">
              {metricKeys.map((key) => (
                <SampledMetricChart key={key} metricKey={key} runs={[{ id: info.id ?? runId, label: info.runName || runId }]} />
              ))}
            </div>
          </Panel>
          <Panel title="Parameters">
            <DataTable
              label="Parameters"
              rows={run.data?.params ?? []}
              rowKey={(param) => param.key ?? ''}
              columns={[
                { key: 'key', header: 'Name', cell: (param) => param.key },
                { key: 'value', header: 'Value', cell: (param) => <code>{param.value}</code> },
              ]}
              empty="No parameters."
            />
          </Panel>
          <Panel title="Latest metrics">
            <DataTable
              label="Latest metrics"
              rows={run.data?.metrics ?? []}
              rowKey={(metric) => metric.key ?? ''}
              columns={[
                { key: 'key', header: 'Name', cell: (metric) => metric.key },
                { key: 'value', header: 'Value', align: 'right', cell: (metric) => formatNumber(metric.value) },
                { key: 'step', header: 'Step', align: 'right', cell: (metric) => formatNumber(metric.step) },
              ]}
              empty="No metrics."
            />
          </Panel>
          <Panel title="Tags">
            <DataTable
              label="Tags"
              rows={run.data?.tags ?? []}
              rowKey={(tag) => tag.key ?? ''}
              columns={[
                { key: 'key', header: 'Name', cell: (tag) => tag.key },
                { key: 'value', header: 'Value', cell: (tag) => tag.value },
              ]}
              empty="No tags."
            />
          </Panel>
          <Panel title="Dataset inputs">
            <DataTable
              label="Dataset inputs"
              rows={run.inputs?.datasetInputs ?? []}
              rowKey={(input) => `${input.dataset?.name}@${input.dataset?.digest}`}
              columns={[
                { key: 'name', header: 'Dataset', cell: (input) => <DatasetName projectId={projectId} input={input} /> },
                { key: 'context', header: 'Context', cell: (input) => input.tags?.find((tag) => tag.key === 'mlflow.data.context')?.value },
                { key: 'digest', header: 'Digest', cell: (input) => <code>{input.dataset?.digest}</code> },
                { key: 'source', header: 'Source', cell: (input) => <span className="source">{input.dataset?.sourceType}: {input.dataset?.source}</span> },
              ]}
              empty="No dataset inputs logged."
            />
          </Panel>
          <Panel title="Artifacts">
            <ArtifactsBrowser runId={info.id ?? runId} />
          </Panel>
        </>
      ) : null}
    </Page>
  );
}

/** A dataset input's name, linked to the dataset when its source names a Trellis dataset version the user may read. */
function DatasetName({ projectId, input }: { projectId: string; input: DatasetInputJson }) {
  const reference = datasetReferenceOf(input.dataset?.source);
  const resolved = useRpc<ResolveDatasetReferenceResponseJson>('trellis.data.v1.DataService/ResolveDatasetReference', reference ? { projectId, reference } : undefined);
  const version = resolved.data?.version;
  if (!version?.datasetId) return <>{input.dataset?.name}</>;
  return (
    <Link to={trackingPaths(projectId).dataset(version.datasetId)}>
      {input.dataset?.name} ({version.reference})
    </Link>
  );
}

function tagOf(run: RunJson, key: string): string | undefined {
  return run.data?.tags?.find((tag) => tag.key === key)?.value;
}

/** How long a finished run took, as hours, minutes and seconds. */
function durationOf(start: string | undefined, end: string | undefined): string | undefined {
  if (!start || !end) return undefined;
  const seconds = Math.max(0, Math.round((Date.parse(end) - Date.parse(start)) / 1000));
  const parts = [Math.floor(seconds / 3600) && `${Math.floor(seconds / 3600)} h`, Math.floor((seconds % 3600) / 60) && `${Math.floor((seconds % 3600) / 60)} min`, `${seconds % 60} s`];
  return parts.filter(Boolean).join(' ');
}

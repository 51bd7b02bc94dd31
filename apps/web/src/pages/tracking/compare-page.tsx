import type { GetRunResponseJson } from '@trellis/proto/trellis/tracking/v1/run_service_pb';
import type { RunJson } from '@trellis/proto/trellis/tracking/v1/resources_pb';
import { useEffect, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useSession } from '../../api/session';
import { formatNumber } from '../../components/format';
import { Page, Panel } from '../../components/page';
import { PALETTE } from '../../components/time-series-chart';
import { useProjectId } from '../project-layout';
import { trackingPaths } from './paths';
import { differencesOf } from './run-differences';
import { MAX_COMPARED } from './runs-page';
import { SampledMetricChart } from './sampled-metric-chart';

/**
 * Several runs side by side (`compare?runs=<id>,<id>`): each metric's curves overlaid, one
 * sampled read for all the runs, lined up step by step; and their params and latest metrics in a
 * table whose rows that differ are marked, optionally alone.
 */
export function ComparePage() {
  const projectId = useProjectId();
  const paths = trackingPaths(projectId);
  const [query] = useSearchParams();
  const runIds = [...new Set((query.get('runs') ?? '').split(',').filter(Boolean))].slice(0, MAX_COMPARED);
  const { runs, error } = useRuns(runIds);
  const [onlyDifferences, setOnlyDifferences] = useState(false);

  const labelled = (runs ?? []).map((run) => ({ id: run.info?.id ?? '', label: run.info?.runName || run.info?.id || '' }));
  const metricKeys = [...new Set((runs ?? []).flatMap((run) => (run.data?.metrics ?? []).map((metric) => metric.key ?? '')))].sort();
  const rows = differencesOf(runs ?? []).filter((row) => !onlyDifferences || row.differs);
  return (
    <Page title={`Comparing ${runIds.length} runs`} error={runIds.length < 2 ? new Error('Choose at least two runs to compare: check them in an experiment\'s runs table.') : error} loading={runIds.length >= 2 && !runs && !error}>
      {runs ? (
        <>
          <Panel title="Metrics">
            {metricKeys.length === 0 ? <p className="muted">These runs logged no metrics.</p> : null}
            <div className="metric-charts">
              {metricKeys.map((key) => (
                <SampledMetricChart key={key} metricKey={key} runs={labelled} sampling="METRIC_SAMPLING_EVEN_STEPS" />
              ))}
            </div>
          </Panel>
          <Panel
            title="Params and metrics"
            actions={
              <label className="choice">
                <input type="checkbox" checked={onlyDifferences} onChange={(event) => setOnlyDifferences(event.target.checked)} /> Only differences
              </label>
            }
          >
            <div className="table-wrap">
              <table aria-label="Params and metrics of the compared runs">
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    {labelled.map((run, index) => (
                      <th key={run.id} scope="col">
                        <span className="swatch" style={{ background: PALETTE[index % PALETTE.length] }} aria-hidden="true" />
                        <Link to={paths.run(run.id)}>{run.label}</Link>
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {rows.length === 0 ? (
                    <tr>
                      <td colSpan={labelled.length + 1} className="muted">
                        {onlyDifferences ? 'The runs agree on every param and metric.' : 'No params or metrics.'}
                      </td>
                    </tr>
                  ) : (
                    rows.map((row) => (
                      <tr key={`${row.kind}.${row.key}`} className={row.differs ? 'differs' : undefined}>
                        <th scope="row">
                          <span className="muted">{row.kind === 'param' ? 'params.' : 'metrics.'}</span>
                          {row.key}
                          {row.differs ? <span className="badge warn">differs</span> : null}
                        </th>
                        {row.values.map((value, index) => (
                          <td key={index} className={row.kind === 'metric' ? 'num' : undefined}>
                            {value === undefined ? <span className="muted">—</span> : row.kind === 'metric' ? formatNumber(value) : value}
                          </td>
                        ))}
                      </tr>
                    ))
                  )}
                </tbody>
              </table>
            </div>
          </Panel>
        </>
      ) : null}
    </Page>
  );
}

/** The runs, each read with GetRun (a run the user may not read fails the page, saying which). */
function useRuns(runIds: readonly string[]): { runs?: RunJson[]; error?: Error } {
  const { client } = useSession();
  const [state, setState] = useState<{ runs?: RunJson[]; error?: Error }>({});
  const key = runIds.join(',');
  useEffect(() => {
    const ids = key.split(',').filter(Boolean);
    if (ids.length === 0) return;
    const abort = new AbortController();
    setState({});
    Promise.all(ids.map((runId) => client.call<GetRunResponseJson>('trellis.tracking.v1.RunService/GetRun', { runId }, { signal: abort.signal }))).then(
      (answers) => !abort.signal.aborted && setState({ runs: answers.flatMap((answer) => (answer.run ? [answer.run] : [])) }),
      (error: Error) => !abort.signal.aborted && setState({ error }),
    );
    return () => abort.abort();
  }, [client, key]);
  return state;
}

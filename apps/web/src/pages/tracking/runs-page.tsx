import type { GetExperimentResponseJson } from '@trellis/proto/trellis/tracking/v1/experiment_service_pb';
import type { RunJson } from '@trellis/proto/trellis/tracking/v1/resources_pb';
import type { SearchRunsResponseJson } from '@trellis/proto/trellis/tracking/v1/run_service_pb';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { useRpc } from '../../api/use-rpc';
import { DataTable, type Column, type Sort } from '../../components/data-table';
import { formatNumber, formatTime } from '../../components/format';
import { ErrorBanner } from '../../components/error-banner';
import { Page } from '../../components/page';
import { useProjectId } from '../project-layout';
import { ColumnChooser } from './column-chooser';
import { trackingPaths } from './paths';
import { ATTRIBUTE_SORTS, columnId, keysOf, orderByClause, parseColumnId, valueOf, type ChosenColumn } from './run-columns';
import { RunStatusBadge } from './run-status-badge';

/** Runs a page shows: the search fetches this many and nothing more, however many runs match. */
export const RUNS_PAGE_SIZE = 100;
/** Runs one comparison overlays at most (the sampled metric read takes 100; more is unreadable). */
export const MAX_COMPARED = 20;
/** Columns shown of each kind until the user chooses. */
const DEFAULT_COLUMNS = 3;

const DEFAULT_SORT: Sort = { key: 'attributes.start_time', descending: true };

/**
 * An experiment's runs, searched on the server: the filter in MLflow's grammar, the order of the
 * clicked column, one page at a time (next and previous by page tokens), so an experiment of any
 * size costs one page. Filter, order and columns live in the URL, so a search can be shared and
 * the back button returns to it. Checked runs are compared.
 */
export function RunsPage() {
  const projectId = useProjectId();
  const paths = trackingPaths(projectId);
  const { experimentId = '' } = useParams();
  const navigate = useNavigate();
  const [query, setQuery] = useSearchParams();
  const filter = query.get('filter') ?? '';
  const sort = sortOf(query.get('sort'), query.get('dir'));
  const chosenParam = query.get('columns');

  const searchKey = `${filter}\n${sort.key}\n${sort.descending}`;
  const [paging, setPaging] = useState({ searchKey, tokens: [''] });
  const tokens = paging.searchKey === searchKey ? paging.tokens : [''];
  const [selected, setSelected] = useState<string[]>([]);
  const [draft, setDraft] = useState({ filter, typed: filter });
  const typedFilter = draft.filter === filter ? draft.typed : filter;

  const experiment = useRpc<GetExperimentResponseJson>('trellis.tracking.v1.ExperimentService/GetExperiment', { experimentId });
  const search = useRpc<SearchRunsResponseJson>('trellis.tracking.v1.RunService/SearchRuns', {
    experimentIds: [experimentId],
    filter,
    orderBy: [orderByClause(sort)],
    pageSize: RUNS_PAGE_SIZE,
    pageToken: tokens[tokens.length - 1],
  });
  const runs = search.data?.runs ?? [];
  const keys = keysOf(runs);
  const chosen: ChosenColumn[] =
    chosenParam === null
      ? [...keys.metrics.slice(0, DEFAULT_COLUMNS).map((key) => ({ entity: 'metrics' as const, key })), ...keys.params.slice(0, DEFAULT_COLUMNS).map((key) => ({ entity: 'params' as const, key }))]
      : chosenParam.split(',').flatMap((id) => parseColumnId(id) ?? []);

  const update = (changes: Record<string, string | undefined>) =>
    setQuery((previous) => {
      const next = new URLSearchParams(previous);
      for (const [name, value] of Object.entries(changes)) {
        if (value === undefined || value === '') next.delete(name);
        else next.set(name, value);
      }
      return next;
    });
  const applyFilter = (event: FormEvent) => {
    event.preventDefault();
    update({ filter: typedFilter.trim() });
  };
  const toggle = (runId: string) => setSelected((previous) => (previous.includes(runId) ? previous.filter((id) => id !== runId) : [...previous, runId]));

  const columns: Array<Column<RunJson>> = [
    {
      key: 'select',
      header: 'Compare',
      cell: (run) => (
        <input type="checkbox" aria-label={`Select ${run.info?.runName || run.info?.id}`} checked={selected.includes(run.info?.id ?? '')} onChange={() => toggle(run.info?.id ?? '')} />
      ),
    },
    { key: 'attributes.run_name', header: 'Run', sortable: true, cell: (run) => <Link to={paths.run(run.info?.id ?? '')}>{run.info?.runName || run.info?.id}</Link> },
    { key: 'attributes.status', header: 'Status', sortable: true, cell: (run) => <RunStatusBadge status={run.info?.status} /> },
    { key: 'attributes.start_time', header: 'Started', sortable: true, cell: (run) => formatTime(run.info?.startTime) },
    { key: 'user', header: 'User', cell: (run) => run.info?.userId },
    ...chosen.map((column) => ({
      key: columnId(column),
      header: (
        <>
          <span className="muted">{column.entity}.</span>
          {column.key}
        </>
      ),
      sortable: true,
      align: column.entity === 'metrics' ? ('right' as const) : ('left' as const),
      cell: (run: RunJson) => (column.entity === 'metrics' ? formatNumber(valueOf(run, column)) : valueOf(run, column)),
    })),
  ];

  const page = tokens.length;
  const nextToken = search.data?.nextPageToken;
  return (
    <Page
      title={experiment.data?.experiment?.name ?? `Experiment ${experimentId}`}
      error={experiment.error}
      actions={
        <>
          <Link to={paths.experiments}>All experiments</Link>
          <button type="button" disabled={selected.length < 2 || selected.length > MAX_COMPARED} onClick={() => navigate(paths.compare(selected))}>
            Compare ({selected.length})
          </button>
        </>
      }
    >
      <form role="search" className="inline-form run-filter" onSubmit={applyFilter}>
        <label htmlFor="run-filter">Filter</label>
        <input
          id="run-filter"
          type="search"
          value={typedFilter}
          onChange={(event) => setDraft({ filter, typed: event.target.value })}
          placeholder="metrics.loss < 0.5 and params.lr = '0.01'"
          aria-describedby="run-filter-help"
          spellCheck={false}
        />
        <button type="submit">Search</button>
        {filter ? (
          <button type="button" className="secondary" onClick={() => update({ filter: undefined })}>
            Clear
          </button>
        ) : null}
      </form>
      {/* `columns=none` (no column id) keeps an empty choice apart from no choice, which shows the defaults. */}
      <ColumnChooser keys={keys} chosen={chosen} onChange={(next) => update({ columns: next.map(columnId).join(',') || 'none' })} />
      <p id="run-filter-help" className="muted">
        MLflow's search grammar: <code>metrics.&lt;key&gt;</code>, <code>params.&lt;key&gt;</code>, <code>tags.&lt;key&gt;</code> and <code>attributes.status</code> compared with =, !=, &lt;, &gt;, LIKE…, joined by <code>and</code>.
        {selected.length > MAX_COMPARED ? ` Compare takes at most ${MAX_COMPARED} runs.` : ''}
      </p>
      <ErrorBanner error={search.error} />
      <DataTable
        label="Runs"
        rows={runs}
        rowKey={(run) => run.info?.id ?? ''}
        columns={columns}
        sort={sort}
        onSort={(next) => update({ sort: next.key === DEFAULT_SORT.key ? undefined : next.key, dir: next.descending ? undefined : 'asc' })}
        empty={search.loading ? 'Loading…' : filter ? 'No run matches this filter.' : 'No runs in this experiment yet.'}
      />
      <nav className="inline-form pager" aria-label="Pages of runs">
        <button type="button" className="secondary" disabled={page === 1} onClick={() => setPaging({ searchKey, tokens: tokens.slice(0, -1) })}>
          Previous page
        </button>
        <span className="muted">
          Page {page}
          {search.data ? `: ${runs.length} runs` : ''}
        </span>
        <button type="button" className="secondary" disabled={!nextToken} onClick={() => setPaging({ searchKey, tokens: [...tokens, nextToken ?? ''] })}>
          Next page
        </button>
      </nav>
    </Page>
  );
}

/** The sort in the URL: an attribute or a chosen column, by start time (newest first) otherwise. */
function sortOf(key: string | null, direction: string | null): Sort {
  const sortKey = key ?? DEFAULT_SORT.key;
  const known = (ATTRIBUTE_SORTS as readonly string[]).includes(sortKey) || parseColumnId(sortKey) !== undefined;
  return known ? { key: sortKey, descending: direction !== 'asc' } : DEFAULT_SORT;
}

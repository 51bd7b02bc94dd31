import type { ListProjectsResponseJson } from '@trellis/proto/trellis/governance/v1/identity_service_pb';
import type { AuditRecordJson } from '@trellis/proto/trellis/governance/v1/resources_pb';
import { useEffect, useState, type FormEvent } from 'react';
import { useSession } from '../../api/session';
import { useRpc } from '../../api/use-rpc';
import { DataTable } from '../../components/data-table';
import { formatTime } from '../../components/format';
import { Page, Panel } from '../../components/page';
import { AuditExport } from './audit-export';
import { AuditRecordDetails } from './audit-record-details';
import { searchAudit, type AuditQuery, type AuditResults } from './audit-search';
import { AuditVerify } from './audit-verify';
import { OutcomeBadge } from './outcome-badge';

const ACTIONS = ['read', 'create', 'update', 'delete', 'manage'];

interface Draft {
  projectId: string;
  actor: string;
  action: string;
  method: string;
  resource: string;
  since: string;
  until: string;
}

const EMPTY: Draft = { projectId: '', actor: '', action: '', method: '', resource: '', since: '', until: '' };

/**
 * The audit log of every project the user may audit (admins and owners their projects, org admins
 * all): a search by project, actor, action, method, resource and time, a page at a time, oldest
 * first; a record's details; the chain's verification (org admins); and an export of the search as
 * JSON Lines.
 */
export function AuditPage() {
  const { client, claims } = useSession();
  const audits = claims.orgAdmin || claims.bindings.some((binding) => binding.role === 'admin' || binding.role === 'owner');
  const projects = useRpc<ListProjectsResponseJson>('trellis.governance.v1.IdentityService/ListProjects', audits ? { pageSize: 1000 } : undefined);
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [query, setQuery] = useState<AuditQuery>(() => queryOf(EMPTY));
  const [tokens, setTokens] = useState(['']);
  const [results, setResults] = useState<{ data?: AuditResults; error?: Error; loading: boolean }>({ loading: audits });
  const [selected, setSelected] = useState<AuditRecordJson>();
  const pageToken = tokens[tokens.length - 1];

  useEffect(() => {
    if (!audits) return;
    const abort = new AbortController();
    setResults((previous) => ({ ...previous, loading: true }));
    searchAudit(client, query, pageToken, abort.signal).then(
      (data) => !abort.signal.aborted && setResults({ data, loading: false }),
      (error: Error) => !abort.signal.aborted && setResults({ error, loading: false }),
    );
    return () => abort.abort();
  }, [client, audits, query, pageToken]);

  if (!audits) {
    return (
      <Page title="Audit">
        <p>The audit log is for the admins and owners of a project, and for org admins: ask one of them for what you need to know.</p>
      </Page>
    );
  }

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setQuery(queryOf(draft));
    setTokens(['']);
    setSelected(undefined);
  };
  const field = (key: keyof Draft) => ({ id: `audit-${key}`, value: draft[key], onChange: (event: { target: { value: string } }) => setDraft({ ...draft, [key]: event.target.value }) });
  const records = results.data?.records ?? [];
  const projectName = new Map((projects.data?.projects ?? []).map((project) => [project.id ?? '', project.name ?? '']));

  return (
    <Page title="Audit" error={results.error}>
      <Panel title="Search">
        <form className="inline-form" onSubmit={submit} aria-label="Search the audit log">
          <label htmlFor="audit-projectId">Project</label>
          <select {...field('projectId')}>
            <option value="">All I may audit</option>
            {(projects.data?.projects ?? []).map((project) => (
              <option key={project.id} value={project.id}>
                {project.name}
              </option>
            ))}
          </select>
          <label htmlFor="audit-action">Action</label>
          <select {...field('action')}>
            <option value="">Any</option>
            {ACTIONS.map((action) => (
              <option key={action} value={action}>
                {action}
              </option>
            ))}
          </select>
          <label htmlFor="audit-method">Method</label>
          <input {...field('method')} maxLength={200} placeholder="SetRoleBinding" title="a method's name (SetRoleBinding), or a full method (trellis.governance.v1.IdentityService/SetRoleBinding)" />
          <label htmlFor="audit-actor">Actor id</label>
          <input {...field('actor')} maxLength={64} />
          <label htmlFor="audit-resource">Resource</label>
          <input {...field('resource')} maxLength={1024} placeholder="projects/…/models/*" />
          <label htmlFor="audit-since">From</label>
          <input type="datetime-local" {...field('since')} />
          <label htmlFor="audit-until">Before</label>
          <input type="datetime-local" {...field('until')} />
          <button type="submit">Search</button>
        </form>
      </Panel>
      <DataTable
        label="Audit records"
        rows={records}
        rowKey={(record) => record.sequence ?? ''}
        columns={[
          {
            key: 'sequence',
            header: 'Seq',
            align: 'right',
            cell: (record) => (
              <button type="button" className="link" aria-label={`Details of record ${record.sequence}`} onClick={() => setSelected(record)}>
                {record.sequence}
              </button>
            ),
          },
          { key: 'time', header: 'Time', cell: (record) => formatTime(record.event?.eventTime) },
          { key: 'project', header: 'Project', cell: (record) => projectName.get(record.event?.projectId ?? '') ?? record.event?.projectId },
          { key: 'actor', header: 'Actor', cell: (record) => record.event?.actor || <span className="muted">unauthenticated</span> },
          { key: 'action', header: 'Action', cell: (record) => record.event?.action },
          { key: 'method', header: 'Method', cell: (record) => (record.event?.method ?? '').replace(/^trellis\./, '') },
          { key: 'resource', header: 'Resource', cell: (record) => record.event?.resource },
          { key: 'outcome', header: 'Outcome', cell: (record) => <OutcomeBadge outcome={record.event?.outcome} /> },
        ]}
        empty={results.loading ? 'Searching…' : 'No records match.'}
      />
      <div className="actions">
        <button type="button" className="secondary" disabled={tokens.length === 1 || results.loading} onClick={() => setTokens(tokens.slice(0, -1))}>
          Previous page
        </button>
        <button type="button" className="secondary" disabled={!results.data?.nextPageToken || results.loading} onClick={() => setTokens([...tokens, results.data?.nextPageToken ?? ''])}>
          Next page
        </button>
        <span className="muted" role="status">
          {results.loading ? 'Searching…' : `${records.length} shown`}
        </span>
      </div>
      {selected ? <AuditRecordDetails record={selected} onClose={() => setSelected(undefined)} /> : null}
      <AuditVerify />
      <AuditExport query={query} />
    </Page>
  );
}

/** The form's values as a query: empty fields match everything; local times become RFC 3339. */
function queryOf(draft: Draft): AuditQuery {
  const filter: AuditQuery = {};
  if (draft.projectId) filter.projectId = draft.projectId;
  if (draft.actor.trim()) filter.actor = draft.actor.trim();
  if (draft.action) filter.action = draft.action;
  if (draft.method.trim()) filter.method = draft.method.trim();
  if (draft.resource.trim()) filter.resource = draft.resource.trim();
  if (draft.since) filter.startTime = new Date(draft.since).toISOString();
  if (draft.until) filter.endTime = new Date(draft.until).toISOString();
  return filter;
}

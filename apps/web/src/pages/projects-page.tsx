import type { CreateProjectResponseJson, ListProjectsResponseJson } from '@trellis/proto/trellis/governance/v1/identity_service_pb';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { useSession } from '../api/session';
import { useMutation, useRpc } from '../api/use-rpc';
import { DataTable } from '../components/data-table';
import { formatTime } from '../components/format';
import { Page, Panel } from '../components/page';

/** The projects the user may read, and a form to create one (anyone signed in may; they own it). */
export function ProjectsPage() {
  const session = useSession();
  const navigate = useNavigate();
  const { data, error, loading } = useRpc<ListProjectsResponseJson>('trellis.governance.v1.IdentityService/ListProjects', { pageSize: 1000 });
  const create = useMutation<CreateProjectResponseJson>('trellis.governance.v1.IdentityService/CreateProject');
  const [name, setName] = useState('');
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const created = await create.run({ name });
    if (!created?.project?.id) return;
    await session.refresh();
    navigate(`/ui/p/${created.project.id}/experiments`);
  };
  const projects = data?.projects ?? [];
  return (
    <Page title="Projects" error={error} loading={loading}>
      <DataTable
        label="Projects"
        rows={projects}
        rowKey={(project) => project.id ?? ''}
        columns={[
          { key: 'name', header: 'Name', cell: (project) => <Link to={`/ui/p/${project.id}/experiments`}>{project.name}</Link> },
          { key: 'role', header: 'Your role', cell: (project) => roleOf(session, project.id ?? '') },
          { key: 'description', header: 'Description', cell: (project) => project.description },
          { key: 'created', header: 'Created', cell: (project) => formatTime(project.createTime) },
        ]}
        empty="No projects you can read yet: create one."
      />
      <Panel title="New project">
        <form className="inline-form" onSubmit={submit}>
          <label htmlFor="project-name">Name</label>
          <input id="project-name" value={name} onChange={(event) => setName(event.target.value)} pattern="[a-z0-9\-]{1,63}" title="1 to 63 lowercase letters, digits and dashes" required />
          <button type="submit" disabled={create.pending}>
            Create
          </button>
        </form>
        {create.error ? <p role="alert" className="error-banner">{create.error.message}</p> : null}
      </Panel>
    </Page>
  );
}

function roleOf(session: ReturnType<typeof useSession>, projectId: string): string {
  for (const role of ['owner', 'admin', 'editor', 'viewer'] as const) if (session.can(projectId, role)) return role;
  return '';
}

import type { CreatePrincipalResponseJson, ListPrincipalsResponseJson } from '@trellis/proto/trellis/governance/v1/identity_service_pb';
import type { PrincipalJson, PrincipalKindJson } from '@trellis/proto/trellis/governance/v1/resources_pb';
import { useState, type FormEvent } from 'react';
import { useSession } from '../../api/session';
import { useMutation, useRpc } from '../../api/use-rpc';
import { DataTable } from '../../components/data-table';
import { ErrorBanner } from '../../components/error-banner';
import { formatTime } from '../../components/format';
import { Page, Panel } from '../../components/page';
import { ApiKeysPanel } from './api-keys-panel';

/**
 * The org's users and service accounts (org admins only): create one, and manage a principal's API
 * keys. Anyone else sees that the page needs an org admin.
 */
export function AdminPage() {
  const { claims } = useSession();
  if (!claims.orgAdmin) {
    return (
      <Page title="Admin">
        <p>This page needs an org admin: users, service accounts and their API keys are managed by the org&apos;s admins. Ask one of them, or manage your own keys with <code>trellis admin keys</code>.</p>
      </Page>
    );
  }
  return <OrgAdmin />;
}

function OrgAdmin() {
  const principals = useRpc<ListPrincipalsResponseJson>('trellis.governance.v1.IdentityService/ListPrincipals', { pageSize: 1000 });
  const [selected, setSelected] = useState<PrincipalJson>();
  const rows = principals.data?.principals ?? [];
  return (
    <Page title="Admin" error={principals.error} loading={principals.loading}>
      <DataTable
        label="Users and service accounts"
        rows={rows}
        rowKey={(principal) => principal.id ?? ''}
        columns={[
          { key: 'name', header: 'Name', cell: (principal) => principal.name },
          { key: 'kind', header: 'Kind', cell: (principal) => (principal.kind === 'PRINCIPAL_KIND_SERVICE_ACCOUNT' ? 'service account' : 'user') },
          { key: 'display', header: 'Display name', cell: (principal) => principal.displayName },
          { key: 'admin', header: 'Org admin', cell: (principal) => (principal.orgAdmin ? <span className="badge warn">org admin</span> : '') },
          { key: 'id', header: 'Id', cell: (principal) => <code>{principal.id}</code> },
          { key: 'created', header: 'Created', cell: (principal) => formatTime(principal.createTime) },
          {
            key: 'keys',
            header: 'API keys',
            cell: (principal) => (
              <button type="button" className="secondary" onClick={() => setSelected(principal)} aria-pressed={selected?.id === principal.id}>
                Keys of {principal.name}
              </button>
            ),
          },
        ]}
        empty="No users or service accounts."
      />
      <CreatePrincipal onCreated={principals.reload} />
      {selected ? <ApiKeysPanel key={selected.id} principal={selected} /> : null}
    </Page>
  );
}

/** The form that creates a user (optionally an org admin) or a service account. */
function CreatePrincipal({ onCreated }: { onCreated(): void }) {
  const create = useMutation<CreatePrincipalResponseJson>('trellis.governance.v1.IdentityService/CreatePrincipal');
  const [draft, setDraft] = useState({ kind: 'PRINCIPAL_KIND_USER' as PrincipalKindJson, name: '', displayName: '', orgAdmin: false });
  const [created, setCreated] = useState<string>();
  const user = draft.kind === 'PRINCIPAL_KIND_USER';
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const answer = await create.run({ ...draft, orgAdmin: user && draft.orgAdmin });
    if (!answer) return;
    setCreated(`Created ${user ? 'user' : 'service account'} ${answer.principal?.name}.`);
    setDraft({ ...draft, name: '', displayName: '', orgAdmin: false });
    onCreated();
  };
  return (
    <Panel title="New user or service account">
      <form className="inline-form" onSubmit={submit}>
        <label htmlFor="principal-kind">Kind</label>
        <select id="principal-kind" value={draft.kind} onChange={(event) => setDraft({ ...draft, kind: event.target.value as PrincipalKindJson })}>
          <option value="PRINCIPAL_KIND_USER">user</option>
          <option value="PRINCIPAL_KIND_SERVICE_ACCOUNT">service account</option>
        </select>
        <label htmlFor="principal-name">Name</label>
        <input id="principal-name" value={draft.name} onChange={(event) => setDraft({ ...draft, name: event.target.value })} pattern="[a-z0-9\-]{1,63}" title="1 to 63 lowercase letters, digits and dashes" required />
        <label htmlFor="principal-display-name">Display name</label>
        <input id="principal-display-name" value={draft.displayName} onChange={(event) => setDraft({ ...draft, displayName: event.target.value })} maxLength={200} />
        {user ? (
          <label>
            <input type="checkbox" checked={draft.orgAdmin} onChange={(event) => setDraft({ ...draft, orgAdmin: event.target.checked })} /> Org admin
          </label>
        ) : null}
        <button type="submit" disabled={create.pending}>
          Create
        </button>
        <span role="status">{created}</span>
      </form>
      <ErrorBanner error={create.error} />
    </Panel>
  );
}

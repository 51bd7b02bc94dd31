import { ROLES, type Role } from '@trellis/client';
import type { ListPrincipalsResponseJson, ListRoleBindingsResponseJson } from '@trellis/proto/trellis/governance/v1/identity_service_pb';
import type { RoleBindingJson } from '@trellis/proto/trellis/governance/v1/resources_pb';
import { useState, type FormEvent } from 'react';
import { useSession } from '../../api/session';
import { useMutation, useRpc } from '../../api/use-rpc';
import { DataTable } from '../../components/data-table';
import { ErrorBanner } from '../../components/error-banner';
import { Page, Panel } from '../../components/page';
import { useProjectId } from '../project-layout';
import { grantableRoles, roleJsonOf, roleOf } from './roles';

/**
 * A project's members and their roles. Admins and owners (and org admins) add a member, change a
 * role (up to their own) and remove a member; everyone else sees the list. Names show for org
 * admins, who may list the org's principals; others see principal ids.
 */
export function MembersPage() {
  const projectId = useProjectId();
  const session = useSession();
  const held = [...ROLES].reverse().find((role) => session.can(projectId, role));
  const manages = session.can(projectId, 'admin');
  const grantable = grantableRoles(held);
  const members = useRpc<ListRoleBindingsResponseJson>('trellis.governance.v1.IdentityService/ListRoleBindings', { projectId, pageSize: 1000 });
  const principals = useRpc<ListPrincipalsResponseJson>('trellis.governance.v1.IdentityService/ListPrincipals', session.claims.orgAdmin ? { pageSize: 1000 } : undefined);
  const setRole = useMutation('trellis.governance.v1.IdentityService/SetRoleBinding');
  const remove = useMutation('trellis.governance.v1.IdentityService/DeleteRoleBinding');
  const names = new Map((principals.data?.principals ?? []).map((principal) => [principal.id ?? '', principal.name ?? '']));
  const nameOf = (principalId: string) => (principalId === session.claims.subject ? `${names.get(principalId) ?? principalId} (you)` : (names.get(principalId) ?? principalId));
  const bindings = members.data?.bindings ?? [];

  const change = async (principalId: string, role: Role) => {
    if (await setRole.run({ binding: { projectId, principalId, role: roleJsonOf(role) } })) members.reload();
  };
  const removeMember = async (principalId: string) => {
    if (await remove.run({ projectId, principalId })) members.reload();
  };
  const editable = (binding: RoleBindingJson) => {
    const role = roleOf(binding.role);
    return manages && role !== undefined && grantable.includes(role);
  };

  return (
    <Page title="Members" error={members.error} loading={members.loading}>
      {manages ? null : <p className="muted">Only the project&apos;s admins and owners change members: you see who they are.</p>}
      <DataTable
        label="Members"
        rows={bindings}
        rowKey={(binding) => binding.principalId ?? ''}
        columns={[
          { key: 'principal', header: 'Member', cell: (binding) => nameOf(binding.principalId ?? '') },
          { key: 'id', header: 'Principal id', cell: (binding) => <code>{binding.principalId}</code> },
          {
            key: 'role',
            header: 'Role',
            cell: (binding) =>
              editable(binding) ? (
                <select aria-label={`Role of ${nameOf(binding.principalId ?? '')}`} value={roleOf(binding.role)} disabled={setRole.pending} onChange={(event) => void change(binding.principalId ?? '', event.target.value as Role)}>
                  {grantable.map((role) => (
                    <option key={role} value={role}>
                      {role}
                    </option>
                  ))}
                </select>
              ) : (
                <span className="badge">{roleOf(binding.role)}</span>
              ),
          },
          ...(manages
            ? [
                {
                  key: 'remove',
                  header: 'Actions',
                  cell: (binding: RoleBindingJson) =>
                    editable(binding) ? (
                      <button type="button" className="secondary" disabled={remove.pending} onClick={() => void removeMember(binding.principalId ?? '')}>
                        Remove {nameOf(binding.principalId ?? '')}
                      </button>
                    ) : null,
                },
              ]
            : []),
        ]}
        empty="No members."
      />
      <ErrorBanner error={setRole.error ?? remove.error} />
      {manages ? <AddMember projectId={projectId} roles={grantable} candidates={(principals.data?.principals ?? []).filter((principal) => !bindings.some((binding) => binding.principalId === principal.id))} onAdded={members.reload} /> : null}
    </Page>
  );
}

/** The form that gives a principal a role: a choice of the org's principals for org admins, an id for project admins. */
function AddMember({ projectId, roles, candidates, onAdded }: { projectId: string; roles: Role[]; candidates: Array<{ id?: string; name?: string }>; onAdded(): void }) {
  const { claims } = useSession();
  const add = useMutation('trellis.governance.v1.IdentityService/SetRoleBinding');
  const [principalId, setPrincipalId] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!(await add.run({ binding: { projectId, principalId: principalId.trim(), role: roleJsonOf(role) } }))) return;
    setPrincipalId('');
    onAdded();
  };
  return (
    <Panel title="Add a member">
      <form className="inline-form" onSubmit={submit}>
        <label htmlFor="member-principal">{claims.orgAdmin ? 'User or service account' : 'Principal id'}</label>
        {claims.orgAdmin ? (
          <select id="member-principal" value={principalId} onChange={(event) => setPrincipalId(event.target.value)} required>
            <option value="">Choose…</option>
            {candidates.map((principal) => (
              <option key={principal.id} value={principal.id}>
                {principal.name}
              </option>
            ))}
          </select>
        ) : (
          <input id="member-principal" value={principalId} onChange={(event) => setPrincipalId(event.target.value)} required maxLength={64} size={40} />
        )}
        <label htmlFor="member-role">Role</label>
        <select id="member-role" value={role} onChange={(event) => setRole(event.target.value as Role)}>
          {roles.map((option) => (
            <option key={option} value={option}>
              {option}
            </option>
          ))}
        </select>
        <button type="submit" disabled={add.pending}>
          Add member
        </button>
      </form>
      <ErrorBanner error={add.error} />
    </Panel>
  );
}

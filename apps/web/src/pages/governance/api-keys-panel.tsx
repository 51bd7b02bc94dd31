import type { ListProjectsResponseJson } from '@trellis/proto/trellis/governance/v1/identity_service_pb';
import type { ApiKeyJson, PrincipalJson } from '@trellis/proto/trellis/governance/v1/resources_pb';
import type { CreateApiKeyResponseJson, ListApiKeysResponseJson } from '@trellis/proto/trellis/governance/v1/token_service_pb';
import { useState, type FormEvent } from 'react';
import { useMutation, useRpc } from '../../api/use-rpc';
import { DataTable } from '../../components/data-table';
import { ErrorBanner } from '../../components/error-banner';
import { formatTime } from '../../components/format';
import { Panel } from '../../components/page';
import { SecretDialog } from './secret-dialog';

/** A principal's API keys: listed without secrets, created (the secret shown once in a dialog), revoked after a confirmation. */
export function ApiKeysPanel({ principal }: { principal: PrincipalJson }) {
  const principalId = principal.id ?? '';
  const keys = useRpc<ListApiKeysResponseJson>('trellis.governance.v1.TokenService/ListApiKeys', { principalId, pageSize: 1000 });
  const projects = useRpc<ListProjectsResponseJson>('trellis.governance.v1.IdentityService/ListProjects', { pageSize: 1000 });
  const create = useMutation<CreateApiKeyResponseJson>('trellis.governance.v1.TokenService/CreateApiKey');
  const revoke = useMutation('trellis.governance.v1.TokenService/RevokeApiKey');
  const [draft, setDraft] = useState<{ name: string; projectIds: string[] }>({ name: '', projectIds: [] });
  const [secret, setSecret] = useState<{ value: string; name: string }>();
  const [confirming, setConfirming] = useState<string>();
  const projectName = new Map((projects.data?.projects ?? []).map((project) => [project.id ?? '', project.name ?? '']));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const created = await create.run({ principalId, ...draft });
    if (!created?.secret) return;
    setSecret({ value: created.secret, name: created.apiKey?.name || (created.apiKey?.id ?? '') });
    setDraft({ name: '', projectIds: [] });
    keys.reload();
  };
  const revokeKey = async (keyId: string) => {
    setConfirming(undefined);
    if (await revoke.run({ apiKeyId: keyId })) keys.reload();
  };

  return (
    <Panel title={`API keys of ${principal.name}`}>
      <ErrorBanner error={keys.error} />
      <DataTable
        label={`API keys of ${principal.name}`}
        rows={keys.data?.apiKeys ?? []}
        rowKey={(key) => key.id ?? ''}
        columns={[
          { key: 'id', header: 'Id', cell: (key) => <code>{key.id}</code> },
          { key: 'name', header: 'Name', cell: (key) => key.name },
          { key: 'state', header: 'State', cell: (key) => <KeyState apiKey={key} /> },
          { key: 'projects', header: 'Projects', cell: (key) => (key.projectIds?.length ? key.projectIds.map((id) => projectName.get(id) ?? id).join(', ') : 'all of its principal') },
          { key: 'created', header: 'Created', cell: (key) => formatTime(key.createTime) },
          { key: 'expires', header: 'Expires', cell: (key) => (key.expireTime ? formatTime(key.expireTime) : 'never') },
          { key: 'used', header: 'Last used', cell: (key) => formatTime(key.lastUsedTime) },
          {
            key: 'revoke',
            header: 'Actions',
            cell: (key) =>
              key.revokeTime ? null : confirming === key.id ? (
                <span className="actions">
                  <button type="button" className="danger" onClick={() => void revokeKey(key.id ?? '')}>
                    Revoke {key.name || key.id} now
                  </button>
                  <button type="button" className="secondary" onClick={() => setConfirming(undefined)}>
                    Keep it
                  </button>
                </span>
              ) : (
                <button type="button" className="secondary" disabled={revoke.pending} onClick={() => setConfirming(key.id)}>
                  Revoke {key.name || key.id}
                </button>
              ),
          },
        ]}
        empty="No API keys."
      />
      <ErrorBanner error={revoke.error} />
      <form className="inline-form" onSubmit={submit} aria-label={`New API key for ${principal.name}`}>
        <label htmlFor="key-name">Key name</label>
        <input id="key-name" value={draft.name} onChange={(event) => setDraft({ ...draft, name: event.target.value })} maxLength={200} />
        <label htmlFor="key-projects">Limit to projects</label>
        <select id="key-projects" multiple size={3} value={draft.projectIds} onChange={(event) => setDraft({ ...draft, projectIds: Array.from(event.target.selectedOptions, (option) => option.value) })}>
          {(projects.data?.projects ?? []).map((project) => (
            <option key={project.id} value={project.id}>
              {project.name}
            </option>
          ))}
        </select>
        <button type="submit" disabled={create.pending}>
          Create key
        </button>
      </form>
      <ErrorBanner error={create.error} />
      {secret ? <SecretDialog secret={secret.value} keyName={secret.name} onClose={() => setSecret(undefined)} /> : null}
    </Panel>
  );
}

function KeyState({ apiKey }: { apiKey: ApiKeyJson }) {
  if (apiKey.revokeTime) return <span className="badge bad">revoked</span>;
  if (apiKey.expireTime && Date.parse(apiKey.expireTime) <= Date.now()) return <span className="badge warn">expired</span>;
  return <span className="badge good">active</span>;
}

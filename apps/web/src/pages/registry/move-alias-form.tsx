import { GatewayRequestError } from '@trellis/client';
import type { ModelVersionJson } from '@trellis/proto/trellis/registry/v1/resources_pb';
import type { ApprovalJson } from '@trellis/proto/trellis/governance/v1/resources_pb';
import { useId, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useSession } from '../../api/session';
import { ErrorBanner } from '../../components/error-banner';
import { REGISTRY, requestAliasApproval } from './registry-api';

/**
 * Points an alias at a version (editors and up). A protected alias needs an approval: the first
 * try requests one and shows it; once someone else approves it, the same form moves the alias
 * with it.
 */
export function MoveAliasForm({
  projectId,
  model,
  versions,
  protectedAliases,
  onMoved,
}: {
  projectId: string;
  model: string;
  versions: readonly ModelVersionJson[];
  protectedAliases: readonly string[];
  onMoved(): void;
}) {
  const id = useId();
  const { client } = useSession();
  const ready = versions.filter((version) => version.status === 'MODEL_VERSION_STATUS_READY');
  const [alias, setAlias] = useState('champion');
  const [version, setVersion] = useState(String(ready[0]?.version ?? ''));
  const [approval, setApproval] = useState<ApprovalJson>();
  const [state, setState] = useState<{ pending: boolean; error?: Error; done?: string }>({ pending: false });
  const isProtected = protectedAliases.includes(alias);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setState({ pending: true });
    try {
      await client.call(REGISTRY.setAlias, { projectId, modelName: model, alias, version: Number(version), approvalId: isProtected ? (approval?.id ?? '') : '' });
      setApproval(undefined);
      setState({ pending: false, done: `${alias} now points at version ${version}.` });
      onMoved();
    } catch (error) {
      if (error instanceof GatewayRequestError && error.reason === 'APPROVAL_REQUIRED') {
        try {
          setApproval(await requestAliasApproval(client, projectId, model, alias, Number(version)));
          setState({ pending: false });
        } catch (requestError) {
          setState({ pending: false, error: requestError as Error });
        }
        return;
      }
      setState({ pending: false, error: error as Error });
    }
  }

  return (
    <form className="inline-form" onSubmit={(event) => void submit(event)} aria-label="Move an alias">
      <label htmlFor={`${id}-alias`}>Alias</label>
      <input id={`${id}-alias`} value={alias} required maxLength={255} pattern="[A-Za-z0-9_\-]+" onChange={(event) => (setAlias(event.target.value), setApproval(undefined))} />
      <label htmlFor={`${id}-version`}>Version</label>
      <select id={`${id}-version`} value={version} required onChange={(event) => (setVersion(event.target.value), setApproval(undefined))}>
        {ready.map((candidate) => (
          <option key={candidate.version} value={String(candidate.version)}>
            v{candidate.version}
          </option>
        ))}
      </select>
      <button type="submit" disabled={state.pending || ready.length === 0}>
        {approval ? 'Move with approval' : 'Move alias'}
      </button>
      {isProtected ? <span className="badge warn">protected: needs an approval</span> : null}
      {approval ? (
        <p role="status">
          Approval <code>{approval.id}</code> requested to point {alias} at version {version}. Someone other than you approves it on the{' '}
          <Link to={`/ui/p/${projectId}/approvals`}>Approvals</Link> page; then press “Move with approval”.
        </p>
      ) : null}
      {state.done ? <p role="status">{state.done}</p> : null}
      <ErrorBanner error={state.error} />
    </form>
  );
}

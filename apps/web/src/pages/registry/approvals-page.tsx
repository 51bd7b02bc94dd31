import type { ListApprovalsResponseJson } from '@trellis/proto/trellis/governance/v1/approval_service_pb';
import type { ApprovalJson } from '@trellis/proto/trellis/governance/v1/resources_pb';
import { useId, useState } from 'react';
import { useSession } from '../../api/session';
import { useMutation, useRpc } from '../../api/use-rpc';
import { DataTable } from '../../components/data-table';
import { ErrorBanner } from '../../components/error-banner';
import { enumLabel, formatTime } from '../../components/format';
import { Page } from '../../components/page';
import { useCan, useProjectId } from '../project-layout';
import { APPROVALS } from './registry-api';

const STATES = [
  ['APPROVAL_STATE_PENDING', 'Pending'],
  ['APPROVAL_STATE_UNSPECIFIED', 'All'],
  ['APPROVAL_STATE_APPROVED', 'Approved'],
  ['APPROVAL_STATE_REJECTED', 'Rejected'],
] as const;

/**
 * The project's approval requests (four eyes on protected alias moves): editors approve or reject
 * others' pending requests, and withdraw their own; viewers only read them.
 */
export function ApprovalsPage() {
  const projectId = useProjectId();
  const id = useId();
  const { claims } = useSession();
  const canDecide = useCan('editor');
  const [state, setState] = useState<string>('APPROVAL_STATE_PENDING');
  const { data, error, loading, reload } = useRpc<ListApprovalsResponseJson>(APPROVALS.list, { projectId, state, pageSize: 1000 });
  const approve = useMutation(APPROVALS.approve);
  const reject = useMutation(APPROVALS.reject);
  const decide = async (mutation: typeof approve, approvalId: string) => {
    if (await mutation.run({ approvalId })) reload();
  };
  const pending = approve.pending || reject.pending;
  return (
    <Page
      title="Approvals"
      error={error}
      loading={loading && !data}
      actions={
        <div className="inline-form">
          <label htmlFor={`${id}-state`}>Show</label>
          <select id={`${id}-state`} value={state} onChange={(event) => setState(event.target.value)}>
            {STATES.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
      }
    >
      <ErrorBanner error={approve.error ?? reject.error} />
      <DataTable<ApprovalJson>
        label="Approval requests"
        rows={data?.approvals ?? []}
        rowKey={(approval) => approval.id ?? ''}
        empty="No requests."
        columns={[
          { key: 'action', header: 'Action', cell: (approval) => approval.action },
          { key: 'resource', header: 'Resource', cell: (approval) => <code>{approval.resource}</code> },
          { key: 'details', header: 'Details', cell: (approval) => Object.entries(approval.details ?? {}).map(([key, value]) => `${key} = ${value}`).join(', ') },
          { key: 'requester', header: 'Requested by', cell: (approval) => (approval.requesterId === claims.subject ? 'you' : approval.requesterId) },
          { key: 'requested', header: 'Requested', cell: (approval) => formatTime(approval.createTime) },
          {
            key: 'state',
            header: 'State',
            cell: (approval) => (
              <span className={`badge ${approval.state === 'APPROVAL_STATE_APPROVED' ? 'good' : approval.state === 'APPROVAL_STATE_REJECTED' ? 'bad' : 'warn'}`}>
                {enumLabel(approval.state, 'APPROVAL_STATE_')}
              </span>
            ),
          },
          { key: 'id', header: 'Id', cell: (approval) => <code>{approval.id}</code> },
          ...(canDecide
            ? [
                {
                  key: 'decide',
                  header: 'Decision',
                  cell: (approval: ApprovalJson) => {
                    if (approval.state !== 'APPROVAL_STATE_PENDING') return approval.comment;
                    const mine = approval.requesterId === claims.subject;
                    return (
                      <div className="actions">
                        {mine ? null : (
                          <button type="button" disabled={pending} onClick={() => void decide(approve, approval.id ?? '')} aria-label={`Approve ${approval.id}`}>
                            Approve
                          </button>
                        )}
                        <button type="button" className="danger" disabled={pending} onClick={() => void decide(reject, approval.id ?? '')} aria-label={`${mine ? 'Withdraw' : 'Reject'} ${approval.id}`}>
                          {mine ? 'Withdraw' : 'Reject'}
                        </button>
                      </div>
                    );
                  },
                },
              ]
            : []),
        ]}
      />
    </Page>
  );
}

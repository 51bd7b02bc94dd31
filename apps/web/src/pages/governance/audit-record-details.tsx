import type { AuditRecordJson } from '@trellis/proto/trellis/governance/v1/resources_pb';
import { formatTime } from '../../components/format';
import { Fields, Panel } from '../../components/page';
import { OutcomeBadge } from './outcome-badge';

/** Everything one audit record holds, its place in the chain included. */
export function AuditRecordDetails({ record, onClose }: { record: AuditRecordJson; onClose(): void }) {
  const event = record.event ?? {};
  return (
    <Panel
      title={`Record ${record.sequence}`}
      actions={
        <button type="button" className="secondary" onClick={onClose}>
          Close details
        </button>
      }
    >
      <Fields
        fields={[
          ['Time', formatTime(event.eventTime)],
          ['Service', event.service],
          ['Method', event.method],
          ['Action', event.action],
          ['Outcome', <OutcomeBadge key="outcome" outcome={event.outcome} />],
          ['Reason', event.reason],
          ['Actor', event.actor],
          ['On behalf of', event.onBehalfOf],
          ['Resource', event.resource],
          ['Project', event.projectId],
          ['Request id', event.requestId],
          ['Client address', event.clientAddress],
          ['Event id', event.id],
          ['Hash', <code key="hash">{record.hash}</code>],
          ['Previous hash', <code key="previous">{record.previousHash}</code>],
        ]}
      />
    </Panel>
  );
}

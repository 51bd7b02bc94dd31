import type { VerifyAuditChainResponseJson } from '@trellis/proto/trellis/governance/v1/audit_service_pb';
import { useSession } from '../../api/session';
import { useMutation } from '../../api/use-rpc';
import { ErrorBanner } from '../../components/error-banner';
import { Panel } from '../../components/page';
import { useState } from 'react';

/** The Verify button (org admins): recomputes the whole chain and says it is intact, or where it breaks. */
export function AuditVerify() {
  const { claims } = useSession();
  const verify = useMutation<VerifyAuditChainResponseJson>('trellis.governance.v1.AuditService/VerifyAuditChain');
  const [verdict, setVerdict] = useState<VerifyAuditChainResponseJson>();
  const run = async () => setVerdict(await verify.run({}));
  return (
    <Panel
      title="Chain verification"
      actions={
        <button type="button" onClick={() => void run()} disabled={!claims.orgAdmin || verify.pending}>
          {verify.pending ? 'Verifying…' : 'Verify'}
        </button>
      }
    >
      <p role="status">
        {!claims.orgAdmin ? <span className="muted">Verifying the whole chain needs an org admin.</span> : verdict ? <Verdict verdict={verdict} /> : <span className="muted">Recomputes every record&apos;s hash and checks the signed checkpoints.</span>}
      </p>
      <ErrorBanner error={verify.error} />
    </Panel>
  );
}

function Verdict({ verdict }: { verdict: VerifyAuditChainResponseJson }) {
  const checked = `${verdict.recordsChecked ?? 0} records and ${verdict.checkpointsChecked ?? 0} checkpoints checked`;
  if (verdict.intact) {
    return (
      <>
        <span className="badge good">Intact</span> The chain is intact: {checked}.
        {Number(verdict.recordsNotCovered ?? 0) > 0 ? ` The last ${verdict.recordsNotCovered} come after the last checkpoint; only their hashes vouch for them.` : ''}
      </>
    );
  }
  return (
    <>
      <span className="badge bad">Broken</span> The chain breaks at record {verdict.firstBadSequence}
      {Number(verdict.firstBadCheckpoint ?? 0) > 0 ? ` (checkpoint ${verdict.firstBadCheckpoint})` : ''}: {verdict.problem}. {verdict.detail} ({checked})
    </>
  );
}

import type { VerifyAuditChainResponseJson } from '@trellis/proto/trellis/governance/v1/audit_service_pb';

/**
 * VerifyAuditChain's answer as one sentence: `OK: ...` with what was checked, or `BROKEN: ...`
 * with the first record (and checkpoint) that does not fit and what is wrong there.
 */
export function verdictText(verdict: VerifyAuditChainResponseJson): string {
  const checked = `${verdict.recordsChecked ?? '0'} records and ${verdict.checkpointsChecked ?? '0'} checkpoints checked`;
  if (verdict.intact) {
    const uncovered = Number(verdict.recordsNotCovered ?? 0) > 0 ? `; the last ${verdict.recordsNotCovered} come after the last checkpoint, so only their hashes vouch for them` : '';
    return `OK: the audit chain is intact, ${checked}${uncovered}.`;
  }
  const checkpoint = Number(verdict.firstBadCheckpoint ?? 0) > 0 ? ` (checkpoint ${verdict.firstBadCheckpoint})` : '';
  const detail = verdict.detail ? `: ${verdict.detail}` : '';
  return `BROKEN: the audit chain breaks at record ${verdict.firstBadSequence ?? '0'}${checkpoint}, ${verdict.problem || 'problem not named'}${detail}; ${checked}.`;
}

/** An audit record's outcome: succeeded (good) or denied (bad). */
export function OutcomeBadge({ outcome }: { outcome?: string }) {
  const denied = outcome === 'OUTCOME_DENIED';
  return <span className={`badge ${denied ? 'bad' : 'good'}`}>{denied ? 'denied' : outcome === 'OUTCOME_SUCCEEDED' ? 'succeeded' : (outcome ?? '')}</span>;
}

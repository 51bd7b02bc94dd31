import { useEffect, useState } from 'react';
import { useSession } from '../../api/session';
import { ErrorBanner } from '../../components/error-banner';
import { Panel } from '../../components/page';
import { exportAudit, type AuditQuery } from './audit-search';

/**
 * Exports the current search as JSON Lines through the API's stream into a Blob, then offers it as
 * a download (a blob: URL, released when replaced or when the page closes).
 */
export function AuditExport({ query }: { query: AuditQuery }) {
  const { client } = useSession();
  const [state, setState] = useState<{ lines: number; running: boolean; url?: string; fileName?: string; error?: Error }>({ lines: 0, running: false });
  useEffect(() => () => void (state.url && URL.revokeObjectURL(state.url)), [state.url]);
  const run = async () => {
    setState({ lines: 0, running: true });
    try {
      const blob = await exportAudit(client, query, (lines) => setState((previous) => ({ ...previous, lines })));
      const fileName = `trellis-audit-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`;
      setState((previous) => ({ ...previous, running: false, url: URL.createObjectURL(blob), fileName }));
    } catch (error) {
      setState({ lines: 0, running: false, error: error as Error });
    }
  };
  return (
    <Panel
      title="Export"
      actions={
        <button type="button" className="secondary" onClick={() => void run()} disabled={state.running}>
          Export as JSON Lines
        </button>
      }
    >
      <p role="status">
        {state.running ? `Exporting… ${state.lines} lines` : state.url ? (
          <a href={state.url} download={state.fileName}>
            Download {state.fileName} ({state.lines} lines)
          </a>
        ) : (
          <span className="muted">The records the search matches, with the chain&apos;s signed checkpoints among them.</span>
        )}
      </p>
      <ErrorBanner error={state.error} />
    </Panel>
  );
}

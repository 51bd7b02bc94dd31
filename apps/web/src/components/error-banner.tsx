import { GatewayRequestError } from '@trellis/client';

/** What went wrong, said so a person can act on it; nothing when there is no error. */
export function ErrorBanner({ error }: { error?: Error }) {
  if (!error) return null;
  const reason = error instanceof GatewayRequestError ? error.reason : undefined;
  return (
    <div role="alert" className="error-banner">
      <strong>{titleOf(error)}</strong> {error.message}
      {reason && reason !== (error as GatewayRequestError).status ? <span className="muted"> ({reason})</span> : null}
    </div>
  );
}

function titleOf(error: Error): string {
  if (!(error instanceof GatewayRequestError)) return 'Error:';
  switch (error.status) {
    case 'PERMISSION_DENIED':
      return 'Not allowed:';
    case 'NOT_FOUND':
      return 'Not found:';
    case 'INVALID_ARGUMENT':
      return 'Invalid:';
    case 'UNAUTHENTICATED':
      return 'Signed out:';
    case 'UNAVAILABLE':
      return 'Unavailable:';
    default:
      return 'Error:';
  }
}

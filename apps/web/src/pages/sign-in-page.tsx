import { useState, type FormEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { useSessionState } from '../api/session';
import { ErrorBanner } from '../components/error-banner';

/** Sign-in with an API key (the one `npm start` prints on its first start, or one an admin created). */
export function SignInPage() {
  const { signIn } = useSessionState();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [apiKey, setApiKey] = useState('');
  const [error, setError] = useState<Error>();
  const [pending, setPending] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setPending(true);
    setError(undefined);
    try {
      await signIn(apiKey);
      const next = params.get('next');
      navigate(next?.startsWith('/ui/') ? next : '/ui/projects', { replace: true });
    } catch (failure) {
      setError(failure as Error);
      setPending(false);
    }
  };
  return (
    <main className="sign-in">
      <form onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in to Trellis</h1>
        <p className="muted">
          Paste an API key. The first <code>npm start</code> prints the admin&apos;s; an admin creates others under Admin.
        </p>
        <label htmlFor="api-key">API key</label>
        <input id="api-key" type="password" autoComplete="off" value={apiKey} onChange={(event) => setApiKey(event.target.value)} placeholder="trellis_…" required />
        <ErrorBanner error={error} />
        <button type="submit" disabled={pending || apiKey.trim() === ''}>
          {pending ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}

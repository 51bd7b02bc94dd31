import { Link, NavLink, Navigate, Outlet, useLocation } from 'react-router';
import { useSessionState } from '../api/session';
import type { Area } from './area';

/** Every signed-in page: the top bar (projects, org pages, sign out). Signed out, it sends to sign-in and back. */
export function AppLayout({ areas }: { areas: readonly Area[] }) {
  const { session } = useSessionState();
  const location = useLocation();
  if (!session) return <Navigate to={`/ui/signin?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  return (
    <div className="app">
      <header className="top-bar">
        <Link to="/ui/projects" className="brand">
          Trellis
        </Link>
        <nav aria-label="Main">
          <NavLink to="/ui/projects">Projects</NavLink>
          {areas.flatMap((area) => area.orgNav ?? []).map((entry) => (
            <NavLink key={entry.to} to={entry.to}>
              {entry.label}
            </NavLink>
          ))}
        </nav>
        <button type="button" className="link" onClick={session.signOut}>
          Sign out
        </button>
      </header>
      <main>
        <Outlet />
      </main>
    </div>
  );
}

import type { GetProjectResponseJson } from '@trellis/proto/trellis/governance/v1/identity_service_pb';
import { createContext, useContext } from 'react';
import { NavLink, Outlet, useParams } from 'react-router';
import { useRpc } from '../api/use-rpc';
import { useSession } from '../api/session';
import { ErrorBanner } from '../components/error-banner';
import type { Area } from './area';

const ProjectContext = createContext<string | undefined>(undefined);

/** The id of the project the page is in (pages under /ui/p/:projectId/ only). */
export function useProjectId(): string {
  const projectId = useContext(ProjectContext);
  if (projectId === undefined) throw new Error('useProjectId outside a project page');
  return projectId;
}

/** Whether the signed-in user holds at least `role` in the page's project. */
export function useCan(role: 'viewer' | 'editor' | 'admin' | 'owner'): boolean {
  return useSession().can(useProjectId(), role);
}

/** A project's pages: its name, its menu (each area's entries), and the page. */
export function ProjectLayout({ areas }: { areas: readonly Area[] }) {
  const { projectId = '' } = useParams();
  const { data, error } = useRpc<GetProjectResponseJson>('trellis.governance.v1.IdentityService/GetProject', { projectId });
  const { can } = useSession();
  const role = can(projectId, 'owner') ? 'owner' : can(projectId, 'admin') ? 'admin' : can(projectId, 'editor') ? 'editor' : 'viewer';
  return (
    <ProjectContext.Provider value={projectId}>
      <div className="project">
        <nav className="project-nav" aria-label="Project">
          <p className="project-name">
            {data?.project?.name ?? '…'} <span className="badge">{role}</span>
          </p>
          <ul>
            {areas.flatMap((area) => area.projectNav).map((entry) => (
              <li key={entry.to}>
                <NavLink to={entry.to}>{entry.label}</NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className="project-page">
          <ErrorBanner error={error} />
          <Outlet />
        </div>
      </div>
    </ProjectContext.Provider>
  );
}

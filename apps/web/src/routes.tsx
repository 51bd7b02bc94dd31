import { Navigate, type RouteObject } from 'react-router';
import type { Area } from './pages/area';
import { AppLayout } from './pages/app-layout';
import { data } from './pages/data';
import { governance } from './pages/governance';
import { jobs } from './pages/jobs';
import { monitoring } from './pages/monitoring';
import { ProjectLayout } from './pages/project-layout';
import { ProjectsPage } from './pages/projects-page';
import { registry } from './pages/registry';
import { serving } from './pages/serving';
import { SignInPage } from './pages/sign-in-page';
import { tracking } from './pages/tracking';

/** Every part of the UI, in menu order. */
export const AREAS: readonly Area[] = [tracking, registry, data, jobs, serving, monitoring, governance];

/** The UI's pages: everything under /ui/ (the gateway answers index.html for each). */
export const ROUTES: RouteObject[] = [
  { path: '/', element: <Navigate to="/ui/projects" replace /> },
  { path: '/ui/signin', element: <SignInPage /> },
  {
    path: '/ui',
    element: <AppLayout areas={AREAS} />,
    children: [
      { index: true, element: <Navigate to="/ui/projects" replace /> },
      { path: 'projects', element: <ProjectsPage /> },
      ...AREAS.flatMap((area) => area.orgRoutes ?? []),
      {
        path: 'p/:projectId',
        element: <ProjectLayout areas={AREAS} />,
        children: [{ index: true, element: <Navigate to="experiments" replace /> }, ...AREAS.flatMap((area) => area.projectRoutes)],
      },
    ],
  },
  { path: '*', element: <Navigate to="/ui/projects" replace /> },
];

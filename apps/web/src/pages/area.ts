import type { RouteObject } from 'react-router';

/**
 * A part of the UI (tracking, the registry, ...): its pages inside a project, at paths relative to
 * `/ui/p/:projectId/`, the entries it adds to a project's menu, and pages outside any project
 * (relative to `/ui/`).
 */
export interface Area {
  projectRoutes: RouteObject[];
  projectNav: Array<{ to: string; label: string }>;
  orgRoutes?: RouteObject[];
  orgNav?: Array<{ to: string; label: string }>;
}

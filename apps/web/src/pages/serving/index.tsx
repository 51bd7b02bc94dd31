import type { Area } from '../area';
import { EndpointsPage } from './endpoints-page';

export const serving: Area = {
  projectRoutes: [{ path: 'endpoints', element: <EndpointsPage /> }],
  projectNav: [{ to: 'endpoints', label: 'Endpoints' }],
};
